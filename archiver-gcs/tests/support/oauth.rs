//! Google's OAuth side of a service-account key, for tests: a throwaway key, key files naming
//! a token endpoint, and that endpoint (it answers grants as told and keeps each one).
//!
//! `tests/data/throwaway-key.pem` is an RSA key made with `openssl genpkey` for these tests
//! only; it was never a Google key and grants nothing anywhere.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub const PRIVATE_KEY: &str = include_str!("../data/throwaway-key.pem");
pub const PUBLIC_KEY: &str = include_str!("../data/throwaway-key.pub.pem");
pub const KEY_ID: &str = "throwaway-key-1";
pub const EMAIL: &str = "archiver-test@archiver-test.iam.gserviceaccount.com";
pub const TOKEN: &str = "ya29.archiver-test-token";

/// Google's token endpoint, as far as a service account's grant goes: each request's form body
/// is kept, and `answer` (given the request's number from 0) says the status and JSON body.
pub struct TokenEndpoint {
    addr: SocketAddr,
    grants: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl Drop for TokenEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TokenEndpoint {
    pub async fn start(answer: fn(usize) -> (u16, &'static str)) -> TokenEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let grants = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&grants);
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let Ok(Some((_, body))) =
                    archiver_kit::object::testing::proxy::read_request(&mut client).await
                else {
                    continue;
                };
                let n = {
                    let mut grants = kept.lock().unwrap();
                    grants.push(String::from_utf8_lossy(&body).into_owned());
                    grants.len() - 1
                };
                let (status, body) = answer(n);
                let response = format!(
                    "HTTP/1.1 {status} Answer\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = client.write_all(response.as_bytes()).await;
                let _ = client.shutdown().await;
            }
        });
        TokenEndpoint { addr, grants, task }
    }

    pub fn uri(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    pub fn grants(&self) -> Vec<String> {
        self.grants.lock().unwrap().clone()
    }
}

pub const GRANTED: (u16, &str) = (
    200,
    r#"{"access_token":"ya29.archiver-test-token","token_type":"Bearer","expires_in":3600}"#,
);
pub const REFUSED: (u16, &str) = (
    400,
    r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
);
pub const UNAVAILABLE: (u16, &str) = (
    503,
    r#"{"error":"temporarily_unavailable","error_description":"try again"}"#,
);

/// A service-account key file in `dir` whose grants go to `token_uri`.
pub fn key_file(dir: &Path, token_uri: &str) -> PathBuf {
    let key = serde_json::json!({
        "type": "service_account",
        "project_id": "archiver-test",
        "private_key_id": KEY_ID,
        "private_key": PRIVATE_KEY,
        "client_email": EMAIL,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    });
    let path = dir.join("key.json");
    std::fs::write(&path, key.to_string()).expect("write the key file");
    path
}

/// The value of `name` in an `application/x-www-form-urlencoded` body (values here need no
/// decoding: a JWT and a URN with only `:` escaped).
pub fn form_value<'b>(body: &'b str, name: &str) -> Option<&'b str> {
    body.split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// At least `at_least` requests reached storage, and every one carried [`TOKEN`].
pub fn assert_every_request_carries_the_token(
    seen: &[archiver_kit::object::testing::proxy::Seen],
    at_least: usize,
) {
    assert!(seen.len() >= at_least, "{seen:?}");
    for (n, method, path, authorization) in seen {
        assert_eq!(
            authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str()),
            "request {n}: {method} {path}"
        );
    }
}
