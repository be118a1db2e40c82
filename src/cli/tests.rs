//! clap's parse of the command line: shapes, defaults, wscat's spellings, the argv rewrites.

use super::argv::{attached_listen_value, check_first_word, rewrite_wscat_listen};
use super::*;
use clap::CommandFactory;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    let v = rewrite_wscat_listen(args.iter().map(Into::into).collect());
    Cli::try_parse_from(v)
}

#[test]
fn clap_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn bare_url_is_connect() {
    let cli = parse(&["wscope", "ws://h/", "-H", "A: b", "-s", "x", "-s", "y"]).unwrap();
    assert!(cli.command.is_none());
    assert_eq!(cli.url.as_deref(), Some("ws://h/"));
    assert_eq!(cli.conn.subprotocols, ["x", "y"]);
    assert_eq!(cli.session.wait, None);
    assert_eq!(cli.session.idle, None);
    assert_eq!(cli.session.expect_timeout, Duration::from_secs(10));
    assert_eq!(cli.conn.max_message_size, 64 << 20);
}

#[test]
fn wscat_aliases() {
    let cli = parse(&["wscope", "-n", "wss://h/"]).unwrap();
    assert!(cli.conn.insecure);
    let cli = parse(&["wscope", "-l", "8080", "--echo"]).unwrap();
    match cli.command {
        Some(Subcommand::Listen(l)) => {
            assert_eq!(l.addr, "8080");
            assert!(l.echo);
        }
        other => panic!("expected listen, got {other:?}"),
    }
}

#[test]
fn wscat_listen_forms_and_first_words() {
    for form in [&["-l8080"][..], &["--listen=8080"], &["--listen", "8080"]] {
        let mut v = vec!["wscope"];
        v.extend_from_slice(form);
        assert!(
            matches!(parse(&v).unwrap().command, Some(Subcommand::Listen(l)) if l.addr == "8080"),
            "{form:?}"
        );
    }
    // Only an address is taken from `-l...`.
    assert_eq!(attached_listen_value("-lfoo"), None);
    assert_eq!(attached_listen_value("-l[::1]:80"), Some("[::1]:80"));
    let first = |w: &str| check_first_word(&["wscope".into(), w.into()]);
    for ok in [
        "localhost",
        "ws://lisen",
        "lisen:80",
        "listen",
        "help",
        "hello",
        "-v",
        "db",
    ] {
        assert!(first(ok).is_ok(), "{ok}");
    }
    for typo in ["lisen", "Inspct", "completion", "insp", "man"] {
        assert_eq!(first(typo).map_err(|e| e.exit_code()), Err(2), "{typo}");
    }
    let cli = parse(&[
        "wscope",
        "ws://h/",
        "--color",
        "always",
        "--no-color",
        "--slash",
    ])
    .unwrap();
    assert_eq!(cli.output.color(), ColorChoice::Never);
}

#[test]
fn inspect_takes_connection_options() {
    let cli = parse(&["wscope", "inspect", "ws://h/", "--json", "-o", "http://o"]).unwrap();
    match cli.command {
        Some(Subcommand::Inspect(i)) => {
            assert!(i.json);
            assert_eq!(i.conn.origin.as_deref(), Some("http://o"));
        }
        other => panic!("expected inspect, got {other:?}"),
    }
}

#[test]
fn wait_and_sizes() {
    assert_eq!(parse_wait("inf").unwrap(), Wait::Forever);
    assert_eq!(parse_wait("0").unwrap(), Wait::Secs(Duration::ZERO));
    assert_eq!(parse_wait("-1").unwrap(), Wait::Forever);
    assert!(parse_wait("-2").is_err());
    let cli = parse(&["wscope", "ws://h/", "-w", "-1", "--idle", "0.5"]).unwrap();
    assert_eq!(cli.session.wait, Some(Wait::Forever));
    assert_eq!(cli.session.idle, Some(Duration::from_millis(500)));
    assert_eq!(parse_size("1K").unwrap(), 1024);
    assert_eq!(parse_size("2MiB").unwrap(), 2 << 20);
    assert!(parse_size("3Q").is_err());
}

#[test]
fn intervals_and_limits_have_a_floor() {
    assert!(parse_interval("0").unwrap_err().contains("0.1 to 1e9"));
    assert!(parse_interval("0.05").is_err());
    assert_eq!(parse_interval("0.1").unwrap(), Duration::from_millis(100));
    assert!(parse_max_message("124")
        .unwrap_err()
        .contains("at least 125"));
    assert_eq!(parse_max_message("125").unwrap(), 125);
    for flags in [
        &["--ping-interval", "0"][..],
        &["--connect-timeout", "0"][..],
        &["--max-message-size", "16"][..],
    ] {
        let mut v = vec!["wscope", "ws://h/"];
        v.extend_from_slice(flags);
        assert!(parse(&v).is_err(), "{flags:?}");
    }
}

#[test]
fn inspect_does_not_take_what_it_would_ignore() {
    for flag in ["--ping-interval=1", "--ping-timeout=1"] {
        assert!(
            parse(&["wscope", "inspect", "ws://h/", flag]).is_err(),
            "{flag}"
        );
        assert!(parse(&["wscope", "ws://h/", flag]).is_ok(), "{flag}");
    }
}

#[test]
fn inspect_takes_the_dump_of_its_close() {
    for flag in ["--dump", "--dump-file=f", "--dump-limit=10"] {
        assert!(
            parse(&["wscope", "inspect", "ws://h/", flag]).is_ok(),
            "{flag}"
        );
    }
}

#[test]
fn missing_url_is_an_error() {
    assert!(parse(&["wscope"]).is_err());
}
