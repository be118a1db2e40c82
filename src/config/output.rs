//! How a command's output looks, decided once per run: the printer's style, colour (on or off for
//! the stream the human-readable text goes to, NO_COLOR honoured), and the `--record` target.
//! [`Output::printer`] is the one place a printer is built, for the command and for the error the
//! edge (`lib.rs`) reports.

use crate::cli::{ColorChoice, OutputArgs};
use crate::printer::{style, Format, Printer, Screen, Style};

#[derive(Debug, Clone)]
pub struct Output {
    pub style: Style,
    /// `--record FILE`.
    pub record: Option<crate::record::Settings>,
    /// Once the command runs, its own report carries its error (`inspect --json`): the edge adds
    /// nothing then.
    pub error_in_report: bool,
}

impl Output {
    /// Decide colour and install it for the process: on when asked for, or when the stream the
    /// human-readable text goes to (stdout for a document or the REPL, else stderr) is a terminal.
    pub fn new(style: Style, color: ColorChoice, human_on_stdout: bool) -> Output {
        style::init_color(color, human_on_stdout);
        Output {
            style,
            record: None,
            error_in_report: false,
        }
    }

    /// Lines on stderr, colour as the terminal allows: for errors found before any command's flags
    /// were read.
    pub fn plain() -> Output {
        Output::new(Style::default(), ColorChoice::Auto, false)
    }

    /// The printer of this output, on `screen`.
    pub fn printer(&self, screen: Screen) -> Printer {
        Printer::new(self.style.clone(), screen)
    }
}

/// A one-shot report (inspect, probe) or replay's notes: only the format is the user's.
pub fn oneshot(json: bool, color: ColorChoice, human_on_stdout: bool) -> Output {
    let style = Style {
        format: Format::json_if(json),
        ..Style::default()
    };
    Output::new(style, color, human_on_stdout)
}

/// The output flags of connect and listen (`--json`, `-T`, `--pretty`, `-P`, `--record`), with
/// what the command decides about them; `interactive`: the REPL is the screen (stdout).
pub fn streaming(args: &OutputArgs, style: Style, interactive: bool) -> Output {
    let mut out = Output::new(
        Style {
            format: Format::json_if(args.json),
            timestamps: args.timestamps,
            pretty: args.pretty,
            ..style
        },
        args.color(),
        interactive,
    );
    out.record = args.record.clone().map(|path| crate::record::Settings {
        path,
        secrets: args.record_secrets,
    });
    out
}
