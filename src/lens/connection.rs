//! Which lens a connection gets, from its target and its handshake (connect's and bench's), and
//! the URL a lens needs before dialling (Socket.IO's Engine.IO query).

/// The lens of a connection to `target` that opened (connect's and bench's): `--lens`, or the
/// one its handshake points to.
pub fn for_connection(
    lens: &super::Config,
    target: &crate::target::Target,
    report: &crate::handshake::Report,
) -> Option<super::Chosen> {
    let url = url::Url::parse(&report.url).ok();
    let resource = url.as_ref().map_or_else(
        || target.resource.clone(),
        |u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
    );
    let sub = report.subprotocol();
    let entry = super::choose(lens, &resource, sub)?;
    Some(super::Chosen {
        entry,
        config: super::Config {
            resource,
            subprotocol: sub.map(String::from),
            host: match lens.host.as_str() {
                "" => target.host.clone(),
                h => h.to_string(),
            },
            login: lens.login.clone().or_else(|| target.auth.clone()),
            ..lens.clone()
        },
    })
}

/// A Socket.IO URL gets the Engine.IO query it needs (`EIO=4&transport=websocket`), said in a note.
pub fn adjust_target(lens: &super::Config, target: &mut crate::target::Target) {
    if target.unix_socket.is_some() {
        return;
    }
    if let Some(u) = super::adjust_url(lens, &target.url) {
        target.resource = match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        };
        target.notes.push(format!(
            "socketio lens: asking for {} (the Engine.IO version and transport were missing)",
            target.resource
        ));
        target.url = u;
    }
}
