//! Helpers shared by integration tests: loopback servers on port 0. Nothing here knows a product.

/// Serves `router` on `127.0.0.1:0` for the rest of the test and returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    format!("http://{addr}")
}
