//! Syncs of a simulated site that answers with the variance real sites send (`FaultConfig::variance`):
//! ids as numbers or text, counts as text, optional fields left out, sentinels and unknown enum values
//! where nothing depends on them, unknown fields, over real HTTP. The index must be exactly the one a
//! plain site gives, and equal the oracle after full, incremental and permissions-only runs. With
//! permission fields garbled (`FaultConfig::garbled_permissions`), nobody may read more than the oracle
//! allows, and what could not be read is recorded.

use permdex::sim::{FaultConfig, Scale, SimConfig, SiteFeatures};
use permdex::sync::{Mode, RunOutcome};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::sync::{assert_same, harness_with, random_mutations, Harness};

/// The parts of real sites that carry the most permission rules.
const FEATURES: SiteFeatures =
    SiteFeatures { product_access: true, inline_comments: true, space_roles: true, service_management: true };

fn varied(seed: u64, scale: Scale, faults: FaultConfig) -> SimConfig {
    SimConfig { faults: FaultConfig { seed, ..faults }, ..SimConfig::new(seed, scale) }
}

async fn stats(h: &Harness) -> permdex::sim::http::guard::GuardStats {
    h.sim.state.guard.stats()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_varies_every_answer_is_indexed_as_the_plain_site_and_as_the_oracle_says() {
    for seed in [5_u64, 6] {
        let plain = harness_with(SimConfig::new(seed, Scale::Tiny), FEATURES).await;
        let every = FaultConfig { variance: 1.0, ..FaultConfig::default() };
        let h = harness_with(varied(seed, Scale::Tiny, every), FEATURES).await;
        for (mode, context) in [(Mode::Full, "full"), (Mode::Incremental, "incremental")] {
            let expected = plain.sync(mode).await;
            let record = h.sync(mode).await;
            let context = format!("seed {seed}, {context}");
            assert_eq!(record.outcome, RunOutcome::Completed, "{context}: {record:?}");
            assert_eq!(record.failed(), expected.failed(), "{context}: {:?}", record.failures);
            assert_eq!(record.notes, expected.notes, "{context}");
            h.assert_matches_oracle(&context).await;
            h.assert_complete(&context);
            assert_same(&h.fingerprint().await, &plain.fingerprint().await, &context);
        }
        let varied = stats(&h).await.varied;
        assert!(varied * 2 > stats(&h).await.requests, "seed {seed}: only {varied} answers varied");

        // Changes (each stamped with the site's clock, so two sites no longer agree on times), then an
        // incremental and a permissions-only run.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mutations = random_mutations(&h.site(), &mut rng, 12, |_| true);
        h.mutate(&mutations).await;
        for (mode, context) in [(Mode::Incremental, "after changes"), (Mode::PermissionsOnly, "permissions")]
        {
            let record = h.sync(mode).await;
            let context = format!("seed {seed}, {context} after {mutations:?}");
            assert_eq!(record.outcome, RunOutcome::Completed, "{context}: {record:?}");
            h.assert_matches_oracle(&context).await;
            h.assert_complete(&context);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbled_permission_fields_narrow_access_and_never_widen_it() {
    for seed in [7_u64, 8] {
        let garbled = FaultConfig { variance: 1.0, garbled_permissions: 0.1, ..FaultConfig::default() };
        let h = harness_with(varied(seed, Scale::Tiny, garbled), FEATURES).await;
        let record = h.sync(Mode::Full).await;
        assert_eq!(record.outcome, RunOutcome::Completed, "seed {seed}: {record:?}");
        let garbled = stats(&h).await.garbled_fields;
        assert!(garbled > 10, "seed {seed}: only {garbled} fields garbled");
        let index = h.index();
        let mut narrowed = 0;
        for user in h.site().users {
            let want = h.oracle(&user.account_id).await;
            let got = index.visible_ids(&user.account_id).expect("visible ids");
            let leaks: Vec<&String> = got.iter().filter(|id| want.binary_search(id).is_err()).collect();
            assert!(leaks.is_empty(), "seed {seed}: {} may read {leaks:?}", user.account_id);
            narrowed += want.iter().filter(|id| got.binary_search(id).is_err()).count();
        }
        // What a garbled field granted is unknown: somebody reads less than the plain site grants, and the
        // run says that some permissions could not be read.
        assert!(narrowed > 0, "seed {seed}: {garbled} garbled fields narrowed nothing");
        let unknown: u64 = record.counts.values().map(|c| c.acl_unknown).sum();
        let noted = record.notes.iter().any(|n| n.starts_with("permission holders that admit nobody"));
        assert!(
            unknown > 0 && noted,
            "seed {seed}: {unknown} documents of unknown access; notes {:?}",
            record.notes
        );
    }
}
