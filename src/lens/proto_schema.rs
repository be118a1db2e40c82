//! The protobuf lens's schema: a `.proto` file compiled at start-up by `protox` (no protoc), its
//! imports looked up beside it and among Google's well-known types, and the `--message` named in
//! it found. Errors name the file and line (`chat.proto:4: expected ';'`), for `config` to report
//! as a usage error.

use std::path::Path;

use miette::Diagnostic;
use prost_reflect::MessageDescriptor;
use protox::file::{
    ChainFileResolver, File, FileResolver, GoogleFileResolver, IncludeFileResolver,
};

/// The main file, given by its text (`config` read it), then the files beside it, then Google's.
struct Main {
    name: String,
    source: String,
}

impl FileResolver for Main {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if name == self.name {
            File::from_source(name, &self.source)
        } else {
            Err(protox::Error::file_not_found(name))
        }
    }
}

/// Compile `source` (the text of the file at `path`) and find `message` in it: a full name
/// (`pkg.Name`), or a name without its package; None when the file holds exactly one message.
pub fn compile(
    path: &Path,
    source: &str,
    message: Option<&str>,
) -> Result<MessageDescriptor, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input.proto".into());
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut chain = ChainFileResolver::new();
    chain.add(Main {
        name: name.clone(),
        source: source.to_string(),
    });
    chain.add(IncludeFileResolver::new(dir.to_path_buf()));
    chain.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(chain);
    compiler.include_imports(true);
    compiler
        .open_file(&name)
        .map_err(|e| located(&e, &name, source, dir))?;
    let pool = compiler.descriptor_pool();
    let ours: Vec<MessageDescriptor> = pool
        .all_messages()
        .filter(|m| m.parent_file().name() == name && !m.is_map_entry())
        .collect();
    pick(&ours, message, &name)
}

fn pick(
    ours: &[MessageDescriptor],
    message: Option<&str>,
    file: &str,
) -> Result<MessageDescriptor, String> {
    let listed = || {
        let names: Vec<&str> = ours.iter().map(|m| m.full_name()).collect();
        format!("messages in {file}: {}", names.join(", "))
    };
    match message {
        Some(want) => ours
            .iter()
            .find(|m| m.full_name() == want)
            .or_else(|| {
                let mut by_short = ours.iter().filter(|m| m.name() == want);
                by_short.next().filter(|_| by_short.next().is_none())
            })
            .cloned()
            .ok_or_else(|| format!("--message {want}: no such message ({})", listed())),
        None => match ours {
            [one] => Ok(one.clone()),
            [] => Err(format!("{file} defines no message")),
            _ => Err(format!("--message NAME is needed ({})", listed())),
        },
    }
}

/// `FILE:LINE: why` for a compile error, the line taken from the error's first label.
fn located(e: &protox::Error, main: &str, source: &str, dir: &Path) -> String {
    let file = e.file().unwrap_or(main).to_string();
    let offset = e.labels().and_then(|mut l| l.next()).map(|l| l.offset());
    let line = offset.and_then(|off| {
        let text = if file == main {
            Some(source.to_string())
        } else {
            std::fs::read_to_string(dir.join(&file)).ok()
        }?;
        let before = text.get(..off.min(text.len()))?;
        Some(before.bytes().filter(|&b| b == b'\n').count() + 1)
    });
    match line {
        Some(n) => format!("{file}:{n}: {e}"),
        None => format!("{file}: {e}"),
    }
}
