//! Shell completion scripts, generated from the clap definition by clap_complete: `wscope
//! completions SHELL` prints them and a test keeps the committed copies in `completions/` fresh.
//! Both use [`render`], so the two can never differ.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The completion script for `shell`.
pub fn render(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "wscope", &mut buf);
    if shell == Shell::Fish {
        fish_positionals(&cmd, &mut buf);
    }
    buf
}

/// clap_complete's fish generator completes options only: add the values of the subcommands'
/// positional arguments that have a fixed set (`wscope completions <TAB>` offers the shells).
fn fish_positionals(cmd: &clap::Command, buf: &mut Vec<u8>) {
    for sub in cmd.get_subcommands() {
        for arg in sub.get_positionals() {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            if values.is_empty() {
                continue;
            }
            buf.extend_from_slice(
                format!(
                    "complete -c wscope -n \"__fish_wscope_using_subcommand {}\" -f -a \"{}\"\n",
                    sub.get_name(),
                    values.join(" ")
                )
                .as_bytes(),
            );
        }
    }
}
