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
        let see_also = ".SH \"SEE ALSO\"\nwscope(1)\n";
        let sub = sub
            .clone()
            .name(name)
            .bin_name(name.replace('-', " "))
            .version(env!("CARGO_PKG_VERSION"));
        pages.push((format!("{name}.1"), man_page(sub, see_also)));
    }
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
    for reference in main.split("wscope\\-").skip(1) {
        let name = reference.split('(').next().unwrap_or("");
        assert!(
            pages.iter().any(|(p, _)| p == &format!("wscope-{name}.1")),
            "wscope-{name}(1) is referred to but not generated"
        );
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
