//! The shell completions in `completions/` and the man page in `man/` are generated from the clap
//! definition and committed. This test renders them in memory and compares byte for byte, so a flag
//! change cannot ship with stale files. `WSCOPE_REGENERATE=1 cargo test --test it generated` rewrites them.

use std::path::PathBuf;

use clap::{CommandFactory, ValueEnum};
use clap_complete::{Generator, Shell};
use wscope::cli::Cli;

use crate::support;

const REGENERATE: &str = "WSCOPE_REGENERATE";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compare `path` with `expected`, or rewrite it when asked to.
fn check(path: PathBuf, expected: &[u8], stale: &mut Vec<String>) {
    if std::env::var_os(REGENERATE).is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, expected).unwrap();
        return;
    }
    match std::fs::read(&path) {
        Ok(actual) if actual == expected => {}
        Ok(_) => stale.push(format!("{} is out of date", path.display())),
        Err(e) => stale.push(format!("{} cannot be read: {e}", path.display())),
    }
}

fn completion(shell: Shell) -> Vec<u8> {
    wscope::commands::completions::render(shell)
}

/// Text for a roff page: backslashes and dashes escaped, no line starting with a control character.
fn roff(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.replace('\\', "\\e").replace('-', "\\-");
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `.SH NAME` and one `.TP` paragraph per (term, text).
fn section(name: &str, items: &[(String, String)]) -> String {
    let mut o = format!(".SH \"{name}\"\n");
    for (term, text) in items {
        o.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(term), roff(text)));
    }
    o
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The sections clap knows nothing about, in the order man-pages(7) gives them.
fn extra_sections() -> String {
    let examples = wscope::cli::EXAMPLES
        .strip_prefix("Examples:\n")
        .unwrap_or(wscope::cli::EXAMPLES);
    let mut o = format!(".SH EXAMPLES\n.nf\n{}\n.fi\n", roff(examples));
    o.push_str(&common_sections());
    o.push_str(SEE_ALSO);
    o
}

/// Every page names the others.
const SEE_ALSO: &str = ".SH \"SEE ALSO\"\nwscope(1), wscope\\-inspect(1), wscope\\-probe(1), wscope\\-replay(1), wscope\\-listen(1), wscope\\-completions(1), wscope\\-repl(7), wscope\\-script(7), wscope\\-json(7)\n";

/// EXIT STATUS, ENVIRONMENT and FILES: the same for every command's page.
fn common_sections() -> String {
    let mut o = String::new();
    let exits: Vec<(String, String)> = wscope::error::exit::MEANINGS
        .iter()
        .map(|(code, text)| (code.to_string(), text.to_string()))
        .collect();
    o.push_str(&section("EXIT STATUS", &exits));
    o.push_str(&section(
        "ENVIRONMENT",
        &pairs(&[
            ("NO_COLOR", "When set and not empty, no colours (as --color never); --color always still wins."),
            ("HTTPS_PROXY, https_proxy", "The proxy for wss:// URLs (http:// for CONNECT, socks5:// or socks5h://), unless --proxy or --no-proxy is given."),
            ("HTTP_PROXY, http_proxy", "The proxy for ws:// URLs."),
            ("ALL_PROXY, all_proxy", "The proxy for both, where the one above is not set."),
            ("NO_PROXY, no_proxy", "Hosts, domains (.example.com) and addresses reached directly, comma-separated; * for all."),
            ("XDG_DATA_HOME, HOME", "Where the REPL history is kept (see FILES)."),
            ("SSL_CERT_FILE, SSL_CERT_DIR", "The system trust roots for wss:// (OpenSSL's variables): a PEM bundle, read once, and hashed directories, read per issuer. Not used with --ca (which replaces the system roots) or -k."),
        ]),
    ));
    o.push_str(&section(
        "FILES",
        &pairs(&[(
            "$XDG_DATA_HOME/wscope/history (default ~/.local/share/wscope/history)",
            "The REPL history, created with mode 0600 in a directory of mode 0700; --no-history neither reads nor writes it.",
        )]),
    ));
    o
}

/// clap_mangen shows no text for an option whose help is hidden from -h: a man page is long help.
fn unhide_short_help(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|a| {
        if a.is_hide_short_help_set() {
            a.hide_short_help(false)
        } else {
            a
        }
    })
}

/// The page of `cmd`: clap_mangen's sections, then ours (instead of its EXTRA), then VERSION.
fn man_page(cmd: clap::Command, extra: &str) -> Vec<u8> {
    let man = clap_mangen::Man::new(unhide_short_help(cmd.clone()));
    let mut page = Vec::new();
    man.render_title(&mut page).unwrap();
    man.render_name_section(&mut page).unwrap();
    man.render_synopsis_section(&mut page).unwrap();
    man.render_description_section(&mut page).unwrap();
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut page).unwrap();
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut page).unwrap();
    }
    page.extend_from_slice(extra.as_bytes());
    man.render_version_section(&mut page).unwrap();
    page
}

/// A section-7 page: title, NAME, the body, SEE ALSO.
fn page7(name: &str, what: &str, body: &str) -> Vec<u8> {
    format!(
        ".TH {} 7 \"\" \"wscope {}\"\n.SH NAME\n{} \\- {}\n{body}{SEE_ALSO}",
        name.to_uppercase(),
        env!("CARGO_PKG_VERSION"),
        roff(name),
        roff(what)
    )
    .into_bytes()
}

/// The rows of the command table (src/slash/help.rs, the one `/help` prints) that `keep` picks.
fn command_rows(keep: impl Fn(&wscope::slash::CommandHelp) -> bool) -> Vec<(String, String)> {
    wscope::slash::COMMANDS
        .iter()
        .filter(|c| keep(c))
        .map(|c| {
            let usage = format!("/{} {}", c.name, c.args);
            (
                usage.trim_end().to_string(),
                format!("{}. Example: {}", c.summary, c.example),
            )
        })
        .collect()
}

/// The commands each lens adds (`wscope::lens::TABLE`), one section row per lens and command.
fn lens_rows() -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for e in wscope::lens::TABLE {
        for c in e.commands {
            let usage = format!("/{} {}", c.name, c.args);
            rows.push((
                format!("{} ({})", usage.trim_end(), e.name),
                format!("{}. Example: {}", c.summary, c.example),
            ));
        }
    }
    rows
}

/// The rules `/help` prints under its table (the lines after the first blank one).
fn help_rules(listen: bool) -> String {
    let help = wscope::slash::help_text(listen);
    let rules = help.split_once("\n\n").map_or("", |(_, r)| r);
    format!(".nf\n{}\n.fi\n", roff(rules.trim_end()))
}

/// wscope-repl(7), wscope-script(7) and wscope-json(7): rendered from the tables the code uses.
fn section7_pages() -> Vec<(String, Vec<u8>)> {
    let repl = format!(
        ".SH DESCRIPTION\nOn a terminal, wscope URL and wscope listen read lines with editing, history and Tab completion. Each line is a message or a command:\n{}{}{}{}.SH \"SCRIPT COMMANDS\"\n/expect, /expect\\-json, /expect\\-close, /let, /sleep, /raw and /frame are described in wscope\\-script(7).\n",
        help_rules(false),
        section("COMMANDS", &command_rows(|c| !c.client_only && !c.listen_only)),
        section("SERVER COMMANDS (wscope listen; /to-server and /to-client: wscope proxy)", &command_rows(|c| c.listen_only)),
        section("LENS COMMANDS (when --lens NAME is on, or the handshake chose it)", &lens_rows()),
    );
    let script = format!(
        ".SH DESCRIPTION\n\\-x MSG (repeatable), \\-\\-script FILE (one command per line; # comments and blank lines skipped) and the REPL of wscope URL run one language: each line is a text message or a command of wscope\\-repl(7), and the commands below wait for the server, match what it sends and set variables. A failed expectation exits 7.\n{}{}.SH EXAMPLES\n.nf\n{}\n.fi\n",
        help_rules(false),
        section("COMMANDS", &command_rows(|c| c.client_only)),
        roff(SCRIPT_EXAMPLE),
    );
    let mut json = String::from(".SH DESCRIPTION\nWith \\-\\-json, wscope prints one JSON object per line on stdout, for jq. Every object has event (its name), t (seconds since the connection opened, to the microsecond) and time (Unix seconds); under wscope listen and wscope proxy, the events of one client also have client (its number, as /clients shows it); under wscope proxy, a connection's events also have hop (client or server: which connection) and dir (c>s or s>c: which way the frame went). The events and their other fields:\n.SH EVENTS\n");
    for (names, when, fields) in wscope::JSON_EVENTS {
        json.push_str(&format!(".SS \"{}\"\n{}.\n", roff(names), roff(when)));
        for (field, meaning) in *fields {
            json.push_str(&format!(
                ".TP\n\\fB{}\\fR\n{}\n",
                roff(field),
                roff(meaning)
            ));
        }
    }
    vec![
        (
            "wscope-repl.7".into(),
            page7("wscope-repl", "the commands of wscope's REPL", &repl),
        ),
        (
            "wscope-script.7".into(),
            page7(
                "wscope-script",
                "wscope's expect language for -x, --script and the REPL",
                &script,
            ),
        ),
        (
            "wscope-json.7".into(),
            page7("wscope-json", "the events wscope prints with --json", &json),
        ),
    ]
}

/// A worked example of the expect language (also in the README).
const SCRIPT_EXAMPLE: &str = r#"wscope wss://api.example.test/ws \
  -x 'login alice ${env:PASSWORD}' \
  -x '/expect "token": "(?<token>[^"]+)"' \
  -x 'whoami ${token}' \
  -x '/expect-json .type == "me" and .user == "alice"' -w 0"#;

/// `man/wscope.1` and one page per subcommand it lists (`wscope-listen.1`, ...).
fn man_pages() -> Vec<(String, Vec<u8>)> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut pages = vec![(
        "wscope.1".to_string(),
        man_page(cmd.clone(), &extra_sections()),
    )];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        // clap takes 'static names (its `string` feature is off); a test may leak a few bytes.
        let name: &'static str = Box::leak(format!("wscope-{}", sub.get_name()).into_boxed_str());
        let see_also = format!("{}{SEE_ALSO}", common_sections());
        let sub = sub
            .clone()
            .name(name)
            .bin_name(name.replace('-', " "))
            .version(env!("CARGO_PKG_VERSION"));
        pages.push((format!("{name}.1"), man_page(sub, &see_also)));
    }
    pages.extend(section7_pages());
    pages
}

#[test]
fn committed_completions_and_man_page_are_fresh() {
    let mut stale = Vec::new();
    for shell in Shell::value_variants() {
        let path = root().join("completions").join(shell.file_name("wscope"));
        check(path, &completion(*shell), &mut stale);
    }
    for (name, page) in man_pages() {
        check(root().join("man").join(name), &page, &mut stale);
    }
    assert!(
        stale.is_empty(),
        "{}\nregenerate them with: {REGENERATE}=1 cargo test --test it generated",
        stale.join("\n")
    );
}

#[test]
fn the_man_page_refers_only_to_pages_that_exist_and_says_what_a_user_looks_up() {
    let pages = man_pages();
    let (_, main) = &pages[0];
    let main = String::from_utf8_lossy(main);
    for heading in ["EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"] {
        assert!(
            main.contains(&format!(".SH \"{heading}\""))
                || main.contains(&format!(".SH {heading}\n")),
            "no {heading}"
        );
    }
    for var in [
        "NO_COLOR",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "XDG_DATA_HOME",
    ] {
        assert!(main.contains(var), "ENVIRONMENT lacks {var}");
    }
    assert!(!main.contains(".SH EXTRA"));
    // Every wscope-NAME(1) it names is a page we ship.
    for (page, text) in &pages {
        let text = String::from_utf8_lossy(text);
        for reference in text.split("wscope\\-").skip(1) {
            let Some((name, rest)) = reference.split_once('(') else {
                continue;
            };
            if name.contains(|c: char| !c.is_ascii_lowercase()) {
                continue;
            }
            let section = rest.chars().next().unwrap_or('?');
            assert!(
                pages
                    .iter()
                    .any(|(p, _)| p == &format!("wscope-{name}.{section}")),
                "{page}: wscope-{name}({section}) is referred to but not generated"
            );
        }
        if page.ends_with(".1") {
            for heading in ["EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"] {
                assert!(
                    text.contains(&format!(".SH \"{heading}\"")),
                    "{page} has no {heading}"
                );
            }
        }
    }
    for page in ["wscope-repl.7", "wscope-script.7", "wscope-json.7"] {
        assert!(
            pages.iter().any(|(p, _)| p == page),
            "{page} is not generated"
        );
    }
    // The REPL page has every command of the /help table; the JSON page every event.
    let page = |n: &str| {
        String::from_utf8_lossy(&pages.iter().find(|(p, _)| p == n).unwrap().1).into_owned()
    };
    let (repl, script, json) = (
        page("wscope-repl.7"),
        page("wscope-script.7"),
        page("wscope-json.7"),
    );
    for c in wscope::slash::COMMANDS {
        let name = format!("/{}", c.name.replace('-', "\\-"));
        assert!(
            repl.contains(&name) || (c.client_only && script.contains(&name)),
            "{name}"
        );
    }
    for (names, _, fields) in wscope::JSON_EVENTS {
        assert!(json.contains(&roff(names)), "{names}");
        for (f, _) in *fields {
            assert!(json.contains(&roff(f)), "{f}");
        }
    }
    // Options whose help -h hides still have their text in the page.
    assert!(main.contains("wscat\\*(Aqs spelling"), "{main}");
}

#[test]
fn fish_completes_the_shells_after_completions() {
    let fish = String::from_utf8(completion(Shell::Fish)).unwrap();
    let line = fish
        .lines()
        .find(|l| l.contains("using_subcommand completions") && l.contains(" -a "))
        .unwrap_or_else(|| panic!("no values for `completions`:\n{fish}"));
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        assert!(line.contains(shell), "{line}");
    }
}

#[test]
fn completions_subcommand_prints_the_committed_script() {
    let out = support::wscope()
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, completion(Shell::Bash));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--subprotocol"));
}

/// SPEC "Documentation": `-h` fits one screen (at most 40 lines), for every command; `--help`
/// has everything; `wscope help --help` is help, not an error.
#[test]
fn short_help_fits_one_screen_and_help_help_is_help() {
    for cmd in [&[][..], &["inspect"], &["probe"], &["listen"], &["replay"]] {
        let out = support::wscope().args(cmd).arg("-h").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{cmd:?}");
        assert!(
            text.lines().count() <= 40,
            "{cmd:?} -h is {} lines:\n{text}",
            text.lines().count()
        );
        let long = support::wscope().args(cmd).arg("--help").output().unwrap();
        let long = String::from_utf8_lossy(&long.stdout);
        // Every option -h shows is in --help, with its long text.
        let words = text
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-'));
        for word in words.filter(|w| w.starts_with("--")) {
            assert!(long.contains(word), "{cmd:?}: {word} not in --help");
        }
    }
    for (args, needle) in [
        (&["help", "--help"][..], "Examples:"),
        (&["help", "-h"], "Usage: wscope"),
        (&["help", "listen", "--help"], "--echo"),
    ] {
        let out = support::wscope().args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains(needle), "{args:?}: {text}");
    }
}

#[test]
fn short_help_is_short_and_long_help_teaches() {
    let short = support::wscope().arg("-h").output().unwrap();
    let long = support::wscope().arg("--help").output().unwrap();
    let (short, long) = (
        String::from_utf8_lossy(&short.stdout),
        String::from_utf8_lossy(&long.stdout),
    );
    assert!(
        short.lines().count() < long.lines().count() / 2,
        "-h should be much shorter than --help"
    );
    assert!(
        !short.contains("--close-reason"),
        "advanced flags stay out of -h"
    );
    for example in [
        "wscope ws://localhost:8080/chat",
        "-x 'hello' --once",
        "wscope inspect",
        "--dump",
    ] {
        assert!(
            long.contains(example),
            "--help lacks the example {example:?}"
        );
    }
    assert!(long.contains("[possible values: auto, always, never]"));
    assert!(long.contains("[default: 10]"), "defaults are shown");
}

/// wscope-json(7) cannot drift from the code: every event a session prints, and every field of
/// it, is in the table the page is rendered from (`wscope::JSON_EVENTS`).
#[test]
fn every_json_event_and_field_printed_is_in_the_json_page_table() {
    let server = crate::listen::Server::start(&["--echo"]);
    let url = server.url("/");
    let out = support::wscope()
        .args([
            &url,
            "--json",
            "-x",
            "/ping",
            "-x",
            "hi",
            "-x",
            "/expect hi",
        ])
        .args([
            "-x",
            "/status",
            "-x",
            "/binary 00ff",
            "-x",
            "/close 4000 bye",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let seen = events_in_the_json_table(&stdout, &["event", "t", "time"]);
    for e in [
        "open", "sent", "received", "ping", "pong", "expect", "status", "close", "closed",
    ] {
        assert!(seen.contains(e), "{e} not printed:\n{stdout}");
    }
}

/// Every event of `stdout` (one JSON object a line) and each of its fields but `common` is in
/// `wscope::JSON_EVENTS`: the events seen.
fn events_in_the_json_table(stdout: &str, common: &[&str]) -> std::collections::BTreeSet<String> {
    let mut seen = std::collections::BTreeSet::new();
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect(line);
        let event = v["event"].as_str().unwrap_or("").to_string();
        let row = wscope::JSON_EVENTS
            .iter()
            .find(|(names, _, _)| names.split(", ").any(|n| n == event))
            .unwrap_or_else(|| panic!("event {event} is not in JSON_EVENTS: {line}"));
        for key in v.as_object().unwrap().keys() {
            if common.contains(&key.as_str()) {
                continue;
            }
            assert!(
                row.2.iter().any(|(f, _)| f == key),
                "{event}.{key} is not in JSON_EVENTS: {line}"
            );
        }
        seen.insert(event);
    }
    seen
}

/// Issue 26 item 8: listen's own events (listening, connected, handshake, refused,
/// disconnected, clients) were missing from the table wscope-json(7) is rendered from. Under
/// listen, a client's events also carry `client` (the page's description says so).
#[tokio::test]
async fn every_listen_json_event_and_field_printed_is_in_the_json_page_table() {
    use std::io::{Read, Write};
    let mut server = crate::listen::Server::start(&["--json", "-v", "--echo"]);
    let out = support::wscope()
        .args([&server.url("/chat"), "-H", "Origin: http://a.example"])
        .args(["-x", "hi", "-x", "/close 4000 bye"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    server.wait_for("stdout", "\"disconnected\"").await;
    // A request that is no upgrade is refused.
    let addr = server
        .url("/")
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_string();
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer);
    server.wait_for("stdout", "\"refused\"").await;
    server.send_line("/clients");
    let stdout = server.wait_for("stdout", "\"clients\"").await;
    let seen = events_in_the_json_table(&stdout, &["event", "t", "time", "client"]);
    for e in [
        "listening",
        "connected",
        "handshake",
        "received",
        "sent",
        "close",
        "disconnected",
        "refused",
        "clients",
    ] {
        assert!(seen.contains(e), "{e} not printed:\n{stdout}");
    }
}

/// Issue 28: the proxy's own fields (`hop`, `dir`, `upstream`, `upgraded`) are on the page, and
/// every event a real `proxy --json` session prints is in the table.
#[tokio::test]
async fn every_proxy_json_event_and_field_printed_is_in_the_json_page_table() {
    let up = crate::listen::Server::start(&["--echo"]);
    let p = crate::proxy::proxy(&up.url("/"), &["--json"]);
    let out = support::wscope()
        .args([
            &p.url("/chat"),
            "-x",
            "hi",
            "-x",
            "/ping p",
            "-x",
            "/close 4000 bye",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = p.wait_for("stdout", r#""closer":"wscope""#).await;
    let common = ["event", "t", "time", "client", "hop", "dir"];
    let seen = events_in_the_json_table(&stdout, &common);
    for e in [
        "listening",
        "connected",
        "open",
        "received",
        "sent",
        "ping",
        "pong",
        "close",
        "closed",
    ] {
        assert!(seen.contains(e), "{e} not printed:\n{stdout}");
    }
}
