//! The extraction worker's sandbox: once it has read its request, a worker gives up the right to write
//! files and to use the network, before it touches a byte of the untrusted input.
//!
//! Two kernel mechanisms, each applied where the kernel offers it (best effort: a kernel without them still
//! runs the worker, with its rlimits and cleared environment, and [`Confinement`] says what held):
//! - Landlock: every file-system write right (create, write, truncate, remove, rename, link) is handled and
//!   granted nowhere, TCP and UDP bind and connect likewise, and the worker may neither signal nor reach
//!   abstract sockets outside its own domain. Reading stays allowed: helper programs (poppler, Tesseract)
//!   read their own data files.
//! - seccomp: `socket` and `io_uring_setup` fail with `EACCES`, so no network of any family, whatever
//!   Landlock version the kernel has.
//!
//! Both are inherited by the helper programs a worker starts. Not here: the resource limits (see
//! `worker.rs`) and the choice of environment (the parent starts the worker with an empty one).

use serde::{Deserialize, Serialize};

/// What the sandbox could enforce on this kernel.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Confinement {
    /// Landlock's verdict: "full", "partial" or why it is not enforced.
    pub landlock: String,
    /// Whether the seccomp filter that denies sockets is in force.
    pub seccomp: bool,
}

impl Confinement {
    /// True when file writes and every network family are denied.
    pub fn is_complete(&self) -> bool {
        self.landlock == "full" && self.seccomp
    }
}

impl std::fmt::Display for Confinement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seccomp = if self.seccomp { "on" } else { "off" };
        write!(f, "landlock {}, seccomp {seccomp}", self.landlock)
    }
}

/// Confines the calling thread and every process it starts afterwards. Call it from a single-threaded
/// process (the worker is one), before reading untrusted input.
pub fn confine() -> Confinement {
    Confinement { landlock: landlock_no_writes_no_network(), seccomp: deny_sockets() }
}

#[cfg(target_os = "linux")]
fn landlock_no_writes_no_network() -> String {
    use landlock::{Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetStatus, Scope, ABI};
    let abi = ABI::V6;
    let restricted = Ruleset::default()
        .handle_access(AccessFs::from_write(abi))
        .and_then(|ruleset| ruleset.handle_access(AccessNet::from_all(abi)))
        .and_then(|ruleset| ruleset.scope(Scope::from_all(abi)))
        .and_then(|ruleset| ruleset.create())
        .and_then(|ruleset| ruleset.restrict_self());
    match restricted {
        Ok(status) => match status.ruleset {
            RulesetStatus::FullyEnforced => "full".to_owned(),
            RulesetStatus::PartiallyEnforced => "partial".to_owned(),
            RulesetStatus::NotEnforced => "not supported by this kernel".to_owned(),
        },
        Err(err) => format!("failed: {err}"),
    }
}

#[cfg(not(target_os = "linux"))]
fn landlock_no_writes_no_network() -> String {
    "not available on this platform".to_owned()
}

#[cfg(target_os = "linux")]
fn deny_sockets() -> bool {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};
    let Ok(arch) = TargetArch::try_from(std::env::consts::ARCH) else {
        return false;
    };
    // An empty rule list matches every call of that syscall, whatever its arguments.
    let denied = [(libc::SYS_socket, Vec::new()), (libc::SYS_io_uring_setup, Vec::new())];
    let filter = SeccompFilter::new(
        denied.into_iter().collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EACCES as u32),
        arch,
    );
    let program: Result<BpfProgram, _> = filter.and_then(|filter| filter.try_into());
    program.is_ok_and(|program| seccompiler::apply_filter(&program).is_ok())
}

#[cfg(not(target_os = "linux"))]
fn deny_sockets() -> bool {
    false
}
