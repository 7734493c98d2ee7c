//! A service-account key file (Temporal's `credentialsPath`) used end to end against the
//! emulator. The emulator checks no credentials, so the key's `token_uri` points at a token
//! endpoint in this test and the fault proxy in front of the emulator records each request's
//! `Authorization`: the key file's key signs the OAuth grant, and every storage request carries
//! the token it bought. Then how the token endpoint's failures are classified: a refused key is
//! final at once, an endpoint that blips or is down is worth a retry.

mod support;

use std::path::Path;

use archiver_core::{ArchiveOptions, HistoryArchiver, VisibilityArchiver};
use archiver_gcs::{GcsHistoryArchiver, GcsSettings, GcsStore, GcsVisibilityArchiver};
use archiver_kit::object::testing::{ProviderFixture, Request, archive_and_find_a_record};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use support::oauth::{
    EMAIL, GRANTED, KEY_ID, PRIVATE_KEY, PUBLIC_KEY, REFUSED, TOKEN, TokenEndpoint, UNAVAILABLE,
    assert_every_request_carries_the_token, form_value, key_file,
};
use support::{GcsFixture, get_all, one_run, quick};
use tokio::net::TcpListener;

/// A store reaching the emulator through the fixture's recording proxy with a key file
/// (written in `dir`) whose grants go to `token_uri`; quick retries.
fn keyed_store(fixture: &GcsFixture, dir: &Path, token_uri: &str) -> GcsStore {
    GcsStore::new(quick(
        GcsSettings::new()
            .with_endpoint(fixture.counter.endpoint())
            .with_credentials_file(key_file(dir, token_uri)),
    ))
}

/// A token endpoint answering as `answer` says, a key file (in `dir`) whose grants go there,
/// and a store using it.
struct Keyed {
    tokens: TokenEndpoint,
    dir: tempfile::TempDir,
    store: GcsStore,
}

async fn keyed(fixture: &GcsFixture, answer: fn(usize) -> (u16, &'static str)) -> Keyed {
    let tokens = TokenEndpoint::start(answer).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = keyed_store(fixture, dir.path(), &tokens.uri());
    Keyed { tokens, dir, store }
}

#[tokio::test]
async fn a_key_file_signs_the_grant_and_every_request_carries_its_token() {
    let Some(fixture) =
        support::fixture("a_key_file_signs_the_grant_and_every_request_carries_its_token").await
    else {
        return;
    };
    let keyed = keyed(&fixture, |_| GRANTED).await;
    let location = fixture.fresh_uri("key-file");

    let (source, run, history, request) = one_run("keyed", 11, 5);
    let histories = GcsHistoryArchiver::new(keyed.store.clone(), source);
    histories
        .archive(&location, &request, &ArchiveOptions::default())
        .await
        .expect("archive with the key file's token");
    assert_eq!(
        get_all(&histories, &location, &run)
            .await
            .expect("read back"),
        history
    );
    archive_and_find_a_record(&GcsVisibilityArchiver::new(keyed.store.clone()), &location).await;

    // One grant, signed with the file's key, for the storage scope, to the file's token_uri.
    let grants = keyed.tokens.grants();
    assert_eq!(grants.len(), 1, "the token is fetched once and reused");
    assert_eq!(
        form_value(&grants[0], "grant_type"),
        Some("urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer")
    );
    let assertion = form_value(&grants[0], "assertion").expect("a JWT assertion");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[keyed.tokens.uri()]);
    validation.set_issuer(&[EMAIL]);
    let public = DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).expect("public key");
    let grant = jsonwebtoken::decode::<serde_json::Value>(assertion, &public, &validation)
        .expect("the grant is signed with the key file's private key");
    assert_eq!(grant.header.kid.as_deref(), Some(KEY_ID));
    let scope = grant.claims["scope"].as_str().expect("a scope");
    assert!(scope.contains("auth/devstorage"), "{scope}");

    // Every request that reached storage carried the token, none went without.
    assert_every_request_carries_the_token(&fixture.counter.seen(), 4);
    // The settings keep the key file's path, never what is in it.
    let shown = format!("{:?}", keyed.store);
    assert!(shown.contains("key.json"), "{shown}");
    assert!(
        !shown.contains("PRIVATE KEY") && !shown.contains(TOKEN),
        "{shown}"
    );
}

#[tokio::test]
async fn a_refused_key_fails_at_once_and_says_why() {
    let Some(fixture) = support::fixture("a_refused_key_fails_at_once_and_says_why").await else {
        return;
    };
    let keyed = keyed(&fixture, |_| REFUSED).await;
    let err = GcsVisibilityArchiver::new(keyed.store)
        .validate_uri(&fixture.fresh_uri("refused"))
        .await
        .expect_err("a refused key");
    assert!(!err.is_retryable(), "a refused key stays refused: {err}");
    let text = err.to_string();
    assert!(text.contains("invalid_grant"), "{text}");
    assert!(text.contains("access denied"), "{text}");
    assert_eq!(keyed.tokens.grants().len(), 1, "a refusal is not retried");
    assert!(
        fixture.counter.seen().is_empty(),
        "nothing goes to storage without a token"
    );
    let key_body = PRIVATE_KEY.lines().nth(1).expect("a key line");
    assert!(!text.contains(key_body) && !text.contains("PRIVATE KEY"));
}

#[tokio::test]
async fn a_token_endpoint_blip_is_retried_like_a_request() {
    let Some(fixture) = support::fixture("a_token_endpoint_blip_is_retried_like_a_request").await
    else {
        return;
    };
    let keyed = keyed(&fixture, |n| if n == 0 { UNAVAILABLE } else { GRANTED }).await;
    GcsVisibilityArchiver::new(keyed.store)
        .validate_uri(&fixture.fresh_uri("blip"))
        .await
        .expect("the second attempt gets a token and reaches the bucket");
    assert_eq!(keyed.tokens.grants().len(), 2, "503, then the token");
    assert_eq!(fixture.counter.count(Request::Other("BUCKET")), 1);
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_a_retryable_failure() {
    let Some(fixture) =
        support::fixture("an_unreachable_token_endpoint_is_a_retryable_failure").await
    else {
        return;
    };
    // A port that was just free: nothing listens there.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("address");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = keyed_store(&fixture, dir.path(), &format!("http://{closed}/token"));
    let err = GcsVisibilityArchiver::new(store)
        .validate_uri(&fixture.fresh_uri("no-token"))
        .await
        .expect_err("no token endpoint");
    assert!(err.is_retryable(), "the endpoint may come back: {err}");
    let text = err.to_string();
    assert!(text.contains("cannot obtain an access token"), "{text}");
    assert!(text.contains("after 2 attempts"), "{text}");
    assert!(fixture.counter.seen().is_empty());
}

/// The key's signature is checked by the test itself, not taken on trust: a grant signed by
/// another key does not verify against the public key the test holds.
#[test]
fn the_public_key_rejects_a_foreign_signature() {
    let public = DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).expect("public key");
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = engine.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = engine.encode(format!(r#"{{"iss":"{EMAIL}","exp":4102444800}}"#));
    let forged = format!("{header}.{claims}.{}", engine.encode([7u8; 256]));
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    assert!(jsonwebtoken::decode::<serde_json::Value>(&forged, &public, &validation).is_err());
}

#[tokio::test]
async fn an_unusable_key_file_is_access_denied_without_echoing_it() {
    let Some(fixture) =
        support::fixture("an_unusable_key_file_is_access_denied_without_echoing_it").await
    else {
        return;
    };
    let keyed = keyed(&fixture, |_| GRANTED).await;
    // The same file with its key's body damaged: it parses, but cannot sign.
    let path = keyed.dir.path().join("key.json");
    let secret = "c2VjcmV0LWtleS1tYXRlcmlhbA";
    let damaged = std::fs::read_to_string(&path)
        .expect("key file")
        .replace(PRIVATE_KEY.lines().nth(1).expect("a key line"), secret);
    std::fs::write(&path, damaged).expect("damage the key");
    let err = GcsVisibilityArchiver::new(keyed.store)
        .validate_uri(&fixture.fresh_uri("damaged-key"))
        .await
        .expect_err("a key that cannot sign");
    assert!(!err.is_retryable(), "{err}");
    let text = err.to_string();
    assert!(text.contains("access denied"), "{text}");
    assert!(text.contains("key.json"), "names the file: {text}");
    assert!(!text.contains(secret), "{text}");
    assert!(
        keyed.tokens.grants().is_empty(),
        "nothing was signed, nothing sent"
    );
    assert!(fixture.counter.seen().is_empty());
}
