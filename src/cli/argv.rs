//! The command line before clap sees it: wscat's `-l8080`, `--reconnect N` (MAX is optional, so
//! clap takes it only after `=`), and the first-word check that turns `wscope lisen 8080` into a
//! usage error instead of a DNS lookup. Pure functions over the argument vector.

use std::ffi::OsString;

use super::Cli;

/// Every rewrite, in order: what `main` hands to clap.
pub fn rewrite(args: Vec<OsString>) -> Vec<OsString> {
    join_max(rewrite_wscat_listen(rewrite_help_help(args)))
}

/// `wscope help --help` (and `help listen -h`): clap's `help` takes no options, so these asked
/// for help and got a usage error; they mean `wscope --help` (`wscope listen -h`).
pub fn rewrite_help_help(mut args: Vec<OsString>) -> Vec<OsString> {
    let asks = |a: &OsString| a == "--help" || a == "-h";
    if args.get(1).is_some_and(|a| a == "help") && args.iter().skip(2).any(asks) {
        args.remove(1);
    }
    args
}

/// Turn wscat's `-l PORT` (also `-lPORT`, `--listen PORT`, `--listen=PORT`) into our
/// `listen PORT`, so muscle memory works without a second copy of the listen options at the top
/// level.
pub fn rewrite_wscat_listen(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len() + 1);
    let mut it = args.into_iter();
    if let Some(bin) = it.next() {
        out.push(bin);
    }
    let rest: Vec<_> = it.collect();
    let mut rewritten = false;
    let mut i = 0;
    while i < rest.len() {
        let a = rest[i].to_str().unwrap_or("");
        if !rewritten && (a == "-l" || a == "--listen") {
            out.insert(1, "listen".into());
            rewritten = true;
        } else if let Some(v) = a
            .strip_prefix("--listen=")
            .or_else(|| attached_listen_value(a))
            .filter(|_| !rewritten)
        {
            out.insert(1, "listen".into());
            out.push(v.into());
            rewritten = true;
        } else if a == "--" {
            out.extend(rest[i..].iter().cloned());
            break;
        } else {
            out.push(rest[i].clone());
        }
        i += 1;
    }
    out
}

/// The `8080` of `-l8080` (an address follows: a digit, `[` or `:`), not some other `-l...`.
pub(super) fn attached_listen_value(arg: &str) -> Option<&str> {
    let v = arg.strip_prefix("-l")?;
    v.starts_with(|c: char| c.is_ascii_digit() || c == '[' || c == ':')
        .then_some(v)
}

/// Words people type for things wscope does another way, with where that is.
const ELSEWHERE: &[(&str, &str)] = &[
    (
        "man",
        "the manual is `man wscope` (man/wscope.1), and `wscope --help` lists every option",
    ),
    (
        "manual",
        "the manual is `man wscope` (man/wscope.1), and `wscope --help` lists every option",
    ),
    ("version", "the version is `wscope --version`"),
    (
        "connect",
        "connecting takes no command: `wscope URL` (or wscat's `wscope -c URL`)",
    ),
];

/// A first argument that is no URL but a mistyped command (`wscope lisen 8080`) or a word for
/// something wscope does another way (`wscope man`) is a usage error, found before anything is
/// dialed: taken as a host name it would cost a DNS lookup and say "cannot resolve host".
pub fn check_first_word(args: &[OsString]) -> crate::error::Result<()> {
    use clap::CommandFactory;
    let Some(word) = args.get(1).and_then(|a| a.to_str()) else {
        return Ok(());
    };
    // Anything with a scheme, port, path, dot or userinfo is meant as an address.
    if word.starts_with('-') || word.is_empty() || word.contains([':', '/', '.', '[', '@']) {
        return Ok(());
    }
    let cmd = Cli::command();
    let names: Vec<String> = cmd
        .get_subcommands()
        .flat_map(|c| std::iter::once(c.get_name()).chain(c.get_all_aliases()))
        .map(str::to_string)
        .collect();
    // `help` is clap's; it is not offered as a guess (`hello` is a fine host name).
    if word == "help" || names.iter().any(|n| n == word) {
        return Ok(());
    }
    let host_hint =
        format!("to connect to a host of that name, write ws://{word} (or wss://{word})");
    if let Some((_, where_)) = ELSEWHERE.iter().find(|(w, _)| w.eq_ignore_ascii_case(word)) {
        return Err(crate::error::Error::usage_hint(
            format!("'{word}' is not a command of wscope"),
            format!("{where_}; {host_hint}"),
        ));
    }
    let lower = word.to_ascii_lowercase();
    let close = names
        .iter()
        .map(|n| (strsim::damerau_levenshtein(&lower, n), n))
        .filter(|(d, n)| {
            *d <= 2.min(n.len() / 3 + 1) || (lower.len() >= 3 && n.starts_with(&lower))
        })
        .min_by_key(|(d, _)| *d);
    match close {
        Some((_, meant)) => Err(crate::error::Error::usage_hint(
            format!("'{word}' is not a command of wscope: did you mean '{meant}'?"),
            format!("`wscope {meant} ...` (see `wscope --help`); {host_hint}"),
        )),
        None => Ok(()),
    }
}

/// `--reconnect 5` as `--reconnect=5`: MAX is optional, so clap takes it only after `=` (or
/// `--reconnect URL` would read the URL as MAX). A word that looks like a MAX is joined to it.
pub fn join_max(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        if a == "--" {
            out.push(a);
            out.extend(it);
            break;
        }
        let looks_like_max = |v: &OsString| {
            v.to_str().is_some_and(|v| {
                v == "inf" || v == "-1" || v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty()
            })
        };
        match it.peek() {
            Some(v) if a == "--reconnect" && looks_like_max(v) => {
                let mut joined = a;
                joined.push("=");
                joined.push(it.next().unwrap_or_default());
                out.push(joined);
            }
            _ => out.push(a),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(args: &[&str]) -> Vec<String> {
        join_max(args.iter().map(OsString::from).collect())
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn a_max_after_the_flag_is_joined_to_it_and_a_url_is_not() {
        assert_eq!(
            joined(&["w", "--reconnect", "3", "u"]),
            ["w", "--reconnect=3", "u"]
        );
        assert_eq!(
            joined(&["w", "--reconnect", "inf"]),
            ["w", "--reconnect=inf"]
        );
        assert_eq!(
            joined(&["w", "--reconnect", "ws://h/"]),
            ["w", "--reconnect", "ws://h/"]
        );
        assert_eq!(joined(&["w", "--reconnect"]), ["w", "--reconnect"]);
        assert_eq!(
            joined(&["w", "--", "--reconnect", "3"]),
            ["w", "--", "--reconnect", "3"]
        );
    }
}
