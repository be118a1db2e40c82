//! wss:// against an in-process TLS server whose certificate comes from a test CA made with rcgen:
//! untrusted without `--ca`, trusted with it, accepted with `-k` (and a visible warning), refused on a
//! host name the certificate does not cover; `inspect` shows the TLS version and the certificate.

use crate::support;

use support::servers::{self, Options, Pki, CA_NAME};
use support::{run_assert, stderr, stdout};
use tokio_tungstenite::tungstenite::Message;

/// A TLS echo server with a certificate for `names`, and the PKI (kept alive for its files).
async fn tls_server(names: &[&str]) -> (servers::Server, Pki) {
    let pki = Pki::new(names);
    let server = servers::start_tls(Options::default(), pki.identity()).await;
    (server, pki)
}

fn path(p: &std::path::Path) -> String {
    p.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_ca_is_refused_naming_the_problem_and_the_flags() {
    let (server, _pki) = tls_server(&["localhost", "127.0.0.1"]).await;
    let url = format!("wss://{}/", server.addr);
    let a = run_assert(vec![url, "-x".into(), "hello".into()]).await;
    let err = stderr(&a);
    a.code(4);
    let diagnosis = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(diagnosis.contains("not trusted"), "{err}");
    assert!(err.contains("--ca"), "{err}");
    assert!(err.contains("-k"), "{err}");
    assert!(
        server.connections().iter().all(|c| c.messages.is_empty()),
        "nothing may be sent over an untrusted connection"
    );
    // -v shows how far it got: the TCP connection worked, TLS did not.
    let a = run_assert(vec![format!("wss://{}/", server.addr), "-v".into()]).await;
    let err = stderr(&a);
    a.code(4);
    assert!(
        err.contains(&format!("* connected to {}", server.addr)),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_ca_given_with_ca_is_trusted() {
    let (server, pki) = tls_server(&["localhost", "127.0.0.1"]).await;
    let url = format!("wss://{}/", server.addr);
    let a = run_assert(vec![
        url,
        "--ca".into(),
        path(&pki.ca_path),
        "-x".into(),
        "over tls".into(),
        "-w".into(),
        "1".into(),
    ])
    .await;
    let (out, err) = (stdout(&a), stderr(&a));
    a.success();
    assert_eq!(out, "over tls\n", "the echo must come back; stderr:\n{err}");
    assert!(!err.contains("warning"), "{err}");
    let seen = server.single();
    assert!(
        matches!(seen.messages.first(), Some(Message::Text(t)) if t.as_str() == "over tls"),
        "{:?}",
        seen.messages
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_connects_with_a_visible_warning() {
    let (server, _pki) = tls_server(&["other.test"]).await;
    let url = format!("wss://{}/", server.addr);
    let a = run_assert(vec![
        url,
        "-k".into(),
        "-x".into(),
        "anyway".into(),
        "-w".into(),
        "1".into(),
    ])
    .await;
    let (out, err) = (stdout(&a), stderr(&a));
    a.success();
    assert_eq!(out, "anyway\n", "stderr:\n{err}");
    let warning = err
        .lines()
        .find(|l| l.contains("warning"))
        .unwrap_or_else(|| panic!("no warning:\n{err}"));
    assert!(warning.contains("verification"), "{err}");
    assert!(warning.contains("-k"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_ip_is_a_hostname_mismatch() {
    // Trusted CA, but the certificate names only "localhost" and we dial 127.0.0.1.
    let (server, pki) = tls_server(&["localhost"]).await;
    let url = format!("wss://{}/", server.addr);
    let a = run_assert(vec![url, "--ca".into(), path(&pki.ca_path)]).await;
    let err = stderr(&a);
    a.code(4);
    assert!(err.contains("hostname mismatch"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_name_is_a_hostname_mismatch() {
    let (server, pki) = tls_server(&["other.test"]).await;
    let url = format!("wss://localhost:{}/", server.addr.port());
    let a = run_assert(vec![url, "--ca".into(), path(&pki.ca_path)]).await;
    let err = stderr(&a);
    a.code(4);
    assert!(err.contains("hostname mismatch"), "{err}");
    assert!(err.contains("-k"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_over_wss_shows_version_subject_and_issuer() {
    let (server, pki) = tls_server(&["localhost", "127.0.0.1"]).await;
    let url = format!("wss://{}/", server.addr);
    let a = run_assert(vec![
        "inspect".into(),
        url.clone(),
        "--ca".into(),
        path(&pki.ca_path),
    ])
    .await;
    let out = stdout(&a);
    a.success();
    // native-tls's OpenSSL acceptor speaks TLS 1.2 only.
    assert!(out.contains("TLS TLSv1.2"), "{out}");
    let subject = out
        .lines()
        .find(|l| l.contains("subject:"))
        .unwrap_or_else(|| panic!("no subject:\n{out}"));
    assert!(subject.contains("CN=localhost"), "{out}");
    let issuer = out
        .lines()
        .find(|l| l.contains("issuer:"))
        .unwrap_or_else(|| panic!("no issuer:\n{out}"));
    assert!(issuer.contains(CA_NAME), "{out}");
    assert!(out.lines().any(|l| l.contains("valid:")), "{out}");
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("tls") && l.contains("ms")),
        "the TLS handshake is timed:\n{out}"
    );

    let a = run_assert(vec![
        "inspect".into(),
        url,
        "--json".into(),
        "--ca".into(),
        path(&pki.ca_path),
    ])
    .await;
    let out = stdout(&a);
    a.success();
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["tls"]["version"], "TLSv1.2", "{v}");
    assert!(
        v["tls"]["issuer"]
            .as_str()
            .is_some_and(|i| i.contains(CA_NAME)),
        "{v}"
    );
    assert!(v["timings"]["tls"].as_f64().is_some(), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_refused_as_expired() {
    let pki = Pki::expired(&["localhost", "127.0.0.1"]);
    let server = servers::start_tls(Options::default(), pki.identity()).await;
    let url = format!("wss://{}/", server.addr);
    let a = run_assert(vec![url, "--ca".into(), path(&pki.ca_path)]).await;
    let err = stderr(&a);
    a.code(4);
    let diagnosis = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(diagnosis.contains("expired"), "{err}");
    assert!(err.contains("-k"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_to_a_plain_server_says_it_did_not_answer_in_tls() {
    let server = servers::start(Options::default()).await;
    let url = format!("wss://{}/", server.addr);
    let a = run_assert(vec![url, "--connect-timeout".into(), "5".into()]).await;
    let err = stderr(&a);
    a.code(4);
    assert!(err.contains("did not answer in TLS"), "{err}");
    assert!(err.contains("ws://"), "the hint names the fix: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_identity_is_loaded_and_a_bad_key_is_a_usage_error() {
    let (server, pki) = tls_server(&["localhost", "127.0.0.1"]).await;
    let client = Pki::new(&["client.test"]);
    let url = format!("wss://{}/", server.addr);
    let with_key = |key: &std::path::Path| {
        vec![
            "inspect".to_string(),
            url.clone(),
            "--ca".into(),
            path(&pki.ca_path),
            "--cert".into(),
            path(&client.cert_path),
            "--key".into(),
            path(key),
        ]
    };
    run_assert(with_key(&client.key_path)).await.success();

    // The CA certificate is no key: refused before connecting, naming both flags.
    let a = run_assert(with_key(&client.ca_path)).await;
    let err = stderr(&a);
    a.code(2);
    assert!(err.contains("--cert"), "{err}");
    assert!(err.contains("--key"), "{err}");
    assert!(
        err.contains("PRIVATE KEY"),
        "the hint says what a key looks like: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_with_insecure_warns_too() {
    let (server, _pki) = tls_server(&["other.test"]).await;
    let url = format!("wss://{}/", server.addr);
    let a = run_assert(vec!["inspect".into(), url, "-k".into()]).await;
    let (out, err) = (stdout(&a), stderr(&a));
    a.success();
    assert!(out.contains("verification skipped (-k)"), "{out}");
    assert!(
        err.lines()
            .any(|l| l.contains("warning") && l.contains("verification is off")),
        "{err}"
    );
}

/// A PEM bundle of the CA certificates of `pkis`, in that order, in `dir`.
fn bundle(dir: &tempfile::TempDir, pkis: &[&Pki]) -> std::path::PathBuf {
    let pem: String = pkis
        .iter()
        .map(|p| std::fs::read_to_string(&p.ca_path).unwrap())
        .collect();
    let p = dir.path().join("bundle.pem");
    std::fs::write(&p, pem).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_bundle_whose_second_certificate_is_the_ca_is_trusted() {
    let (server, pki) = tls_server(&["localhost", "127.0.0.1"]).await;
    let other = Pki::with_ca_name(&["unrelated.test"], "unrelated CA");
    let dir = tempfile::tempdir().unwrap();
    let ca = bundle(&dir, &[&other, &pki]);
    let url = format!("wss://{}/", server.addr);
    let a = run_assert(vec!["inspect".into(), url, "--ca".into(), path(&ca)]).await;
    let (out, err) = (stdout(&a), stderr(&a));
    a.success();
    assert!(out.contains("all checks passed"), "{out}\n{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_chain_with_ca_names_the_file_instead_of_suggesting_ca() {
    let (server, _pki) = tls_server(&["localhost", "127.0.0.1"]).await;
    let one = Pki::with_ca_name(&["a.test"], "CA one");
    let two = Pki::with_ca_name(&["b.test"], "CA two");
    let dir = tempfile::tempdir().unwrap();
    let ca = bundle(&dir, &[&one, &two]);
    let url = format!("wss://{}/", server.addr);
    let a = run_assert(vec![url, "--ca".into(), path(&ca)]).await;
    let err = stderr(&a);
    a.code(4);
    let hint = err.lines().find(|l| l.contains("hint:")).unwrap_or("");
    assert!(
        hint.contains(&path(&ca)),
        "the hint names the file used: {err}"
    );
    assert!(hint.contains("2 certificates"), "{err}");
    assert!(
        !hint.contains("with --ca FILE"),
        "the user did give --ca: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cert_and_key_that_do_not_match_are_a_usage_error_naming_both_files() {
    let (server, pki) = tls_server(&["localhost", "127.0.0.1"]).await;
    let (one, two) = (Pki::new(&["one.test"]), Pki::new(&["two.test"]));
    let a = run_assert(vec![
        format!("wss://{}/", server.addr),
        "--ca".into(),
        path(&pki.ca_path),
        "--cert".into(),
        path(&one.cert_path),
        "--key".into(),
        path(&two.key_path),
    ])
    .await;
    let err = stderr(&a);
    a.code(2);
    let diagnosis = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(diagnosis.contains(&path(&one.cert_path)), "{err}");
    assert!(diagnosis.contains(&path(&two.key_path)), "{err}");
    assert!(diagnosis.contains("does not match"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_names_of_the_certificate_are_shown_on_success_and_on_a_mismatch() {
    let (server, pki) = tls_server(&["localhost", "alt.test"]).await;
    let a = run_assert(vec![
        "inspect".into(),
        format!("wss://localhost:{}/", server.addr.port()),
        "--ca".into(),
        path(&pki.ca_path),
    ])
    .await;
    let out = stdout(&a);
    a.success();
    let names = out
        .lines()
        .find(|l| l.contains("names:"))
        .unwrap_or_else(|| panic!("no names line:\n{out}"));
    assert!(
        names.contains("localhost") && names.contains("alt.test"),
        "{out}"
    );

    // 127.0.0.1 is not among them: the error lists what the certificate does name.
    let a = run_assert(vec![
        format!("wss://{}/", server.addr),
        "--ca".into(),
        path(&pki.ca_path),
    ])
    .await;
    let err = stderr(&a);
    a.code(4);
    let diagnosis = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(diagnosis.contains("hostname mismatch"), "{err}");
    assert!(
        diagnosis.contains("localhost") && diagnosis.contains("alt.test"),
        "the names the certificate has: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_to_a_tls_port_suggests_wss() {
    let (server, _pki) = tls_server(&["localhost", "127.0.0.1"]).await;
    let a = run_assert(vec![
        format!("ws://{}/", server.addr),
        "--connect-timeout".into(),
        "3".into(),
    ])
    .await;
    let err = stderr(&a);
    a.code(5);
    let hint = err.lines().find(|l| l.contains("hint:")).unwrap_or("");
    assert!(hint.contains("wss://"), "{err}");
}

/// Issue 15 item 13: a TLS 1.3 server that demands a client certificate sends its alert after
/// the handshake, while the 101 is being read: that was "reading the upgrade response" failed,
/// exit 1, no hint.
#[tokio::test]
async fn a_server_that_requires_a_client_certificate_gets_a_cert_hint() {
    use openssl::ssl::{SslAcceptor, SslMethod, SslVerifyMode};
    let pki = Pki::new(&["127.0.0.1"]);
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
    b.set_private_key_file(&pki.key_path, openssl::ssl::SslFiletype::PEM)
        .unwrap();
    b.set_certificate_chain_file(&pki.cert_path).unwrap();
    b.set_ca_file(&pki.ca_path).unwrap();
    b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    let acceptor = b.build();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((tcp, _)) = listener.accept() {
            // Fails (no certificate) and sends the alert; the socket stays open a moment, as a
            // server's would, so the alert is what the client reads (not a reset).
            let failed = acceptor.accept(tcp);
            std::thread::sleep(std::time::Duration::from_secs(2));
            drop(failed);
        }
    });
    let out = support::run(support::args(&[
        &format!("wss://127.0.0.1:{port}/"),
        "--ca",
        pki.ca_path.to_str().unwrap(),
        "-x",
        "hi",
    ]))
    .await;
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("client certificate"), "{}", out.stderr);
    assert!(out.stderr.contains("--cert"), "{}", out.stderr);
}

/// Run wscope with extra environment variables (the OpenSSL trust-root ones), off the runtime.
async fn run_env(
    vars: Vec<(&'static str, String)>,
    args: Vec<String>,
) -> assert_cmd::assert::Assert {
    tokio::task::spawn_blocking(move || {
        let mut cmd = support::wscope();
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.args(args)
            .timeout(std::time::Duration::from_secs(10))
            .assert()
    })
    .await
    .unwrap()
}

/// A FIFO with no writer: whoever opens it for reading blocks, so a run that finishes did not.
fn fifo(dir: &tempfile::TempDir) -> String {
    let p = dir.path().join("bundle.fifo");
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    path(&p)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_roots_named_by_ssl_cert_file_are_trusted() {
    let (server, pki) = tls_server(&["localhost", "127.0.0.1"]).await;
    let a = run_env(
        vec![("SSL_CERT_FILE", path(&pki.ca_path))],
        vec!["inspect".into(), format!("wss://{}/", server.addr)],
    )
    .await;
    let out = stdout(&a);
    a.success();
    assert!(out.contains("all checks passed"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_replaces_the_system_roots_as_curls_cacert_does() {
    // The server's CA is a "system" root here; --ca names another one: only --ca counts.
    let (server, pki) = tls_server(&["localhost", "127.0.0.1"]).await;
    let other = Pki::with_ca_name(&["other.test"], "other CA");
    let a = run_env(
        vec![("SSL_CERT_FILE", path(&pki.ca_path))],
        vec![
            format!("wss://{}/", server.addr),
            "--ca".into(),
            path(&other.ca_path),
        ],
    )
    .await;
    let err = stderr(&a);
    a.code(4);
    let hint = err.lines().find(|l| l.contains("hint:")).unwrap_or("");
    assert!(hint.contains(&path(&other.ca_path)), "{err}");
    assert!(hint.contains("instead of the system roots"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_k_or_ca_the_system_bundle_is_not_read() {
    let (server, pki) = tls_server(&["localhost", "127.0.0.1"]).await;
    let dir = tempfile::tempdir().unwrap();
    let bundle = fifo(&dir);
    for trust in [vec!["-k"], vec!["--ca", pki.ca_path.to_str().unwrap()]] {
        let mut args = vec!["inspect".to_string(), format!("wss://{}/", server.addr)];
        args.extend(trust.iter().map(|s| s.to_string()));
        let a = run_env(vec![("SSL_CERT_FILE", bundle.clone())], args).await;
        let out = stdout(&a);
        a.success();
        assert!(out.contains("all checks passed"), "{trust:?}: {out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_timings_show_the_tls_setup() {
    let (server, pki) = tls_server(&["localhost", "127.0.0.1"]).await;
    let url = format!("wss://{}/", server.addr);
    let a = run_assert(vec![
        "inspect".into(),
        url.clone(),
        "--ca".into(),
        path(&pki.ca_path),
    ])
    .await;
    let out = stdout(&a);
    a.success();
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("tls setup") && l.contains("ms")),
        "loading the trust roots is timed:\n{out}"
    );
    let a = run_assert(vec![
        "inspect".into(),
        url,
        "--json".into(),
        "--ca".into(),
        path(&pki.ca_path),
    ])
    .await;
    let v: serde_json::Value = serde_json::from_str(stdout(&a).trim()).unwrap();
    assert!(v["timings"]["tls_setup"].as_f64().is_some(), "{v}");
}

/// Issue 26 item 13: a TLS failure says what failed in the user's words and OpenSSL's short
/// reason; OpenSSL's whole text (its error code, function and source file) only with -v.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_internals_are_shown_only_with_v() {
    let (server, _pki) = tls_server(&["localhost", "127.0.0.1"]).await;
    let url = format!("wss://{}/", server.addr);
    let a = run_assert(vec![url.clone()]).await;
    let err = stderr(&a);
    a.code(4);
    let diagnosis = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(diagnosis.contains("not trusted"), "{err}");
    assert!(diagnosis.contains("certificate verify failed"), "{err}");
    for internal in ["SSL routines", "0A000086", ".c:", "statem"] {
        assert!(
            !err.contains(internal),
            "{internal} shown without -v: {err}"
        );
    }
    let a = run_assert(vec![url, "-v".into()]).await;
    let err = stderr(&a);
    a.code(4);
    assert!(
        err.contains("SSL routines"),
        "-v hides OpenSSL's text: {err}"
    );
}
