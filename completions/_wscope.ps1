
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'wscope' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'wscope'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'wscope' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'wscat''s spelling of the URL argument')
            [CompletionResult]::new('--connect', '--connect', [CompletionResultType]::ParameterName, 'wscat''s spelling of the URL argument')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'wscat''s spelling of `wscope listen PORT`')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'wscat''s spelling of `wscope listen PORT`')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable; replaces a default header of the same name)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable; replaces a default header of the same name)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Offer a subprotocol (repeatable; offered in order)')
            [CompletionResult]::new('--subprotocol', '--subprotocol', [CompletionResultType]::ParameterName, 'Offer a subprotocol (repeatable; offered in order)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Origin header to send')
            [CompletionResult]::new('--origin', '--origin', [CompletionResultType]::ParameterName, 'Origin header to send')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'Basic credentials ''user:pass'' (also taken from user:pass@ in the URL)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'Sec-WebSocket-Version to send, to see how a server answers other versions')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)')
            [CompletionResult]::new('--max-redirects', '--max-redirects', [CompletionResultType]::ParameterName, 'Most redirects to follow with --location')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate, PEM (with --key)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key, PEM PKCS#8 ''BEGIN PRIVATE KEY'' (with --cert)')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest message or frame accepted from the server; bigger closes with 1009 [at least 125; suffixes: K, M, G]')
            [CompletionResult]::new('--deflate', '--deflate', [CompletionResultType]::ParameterName, 'Offer permessage-deflate with exactly these parameters, e.g. ''server_no_context_takeover; client_max_window_bits=10'' [default: ''client_max_window_bits'']')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send a ping every SECS and show its round-trip time [at least 0.1]')
            [CompletionResult]::new('--ping-timeout', '--ping-timeout', [CompletionResultType]::ParameterName, 'Close the connection as dead when no pong arrives within SECS of a ping [at least 0.1]')
            [CompletionResult]::new('--reconnect', '--reconnect', [CompletionResultType]::ParameterName, 'Connect again when the connection drops or the server closes with 1001, 1011, 1012 or 1013 (backoff 0.5 s to 30 s), up to MAX attempts in a row [''inf'': no limit; default: none in the REPL, 5 otherwise]')
            [CompletionResult]::new('--dump-limit', '--dump-limit', [CompletionResultType]::ParameterName, 'Bytes of each payload shown by --dump before the rest is elided')
            [CompletionResult]::new('--dump-file', '--dump-file', [CompletionResultType]::ParameterName, 'Write the frame dump to FILE instead of stderr (implies --dump)')
            [CompletionResult]::new('--lens', '--lens', [CompletionResultType]::ParameterName, 'Decode and speak the protocol inside: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor, or none [default: chosen from a /socket.io/ path or a graphql-ws subprotocol]')
            [CompletionResult]::new('--lens-auth', '--lens-auth', [CompletionResultType]::ParameterName, 'JSON the lens authenticates with: Socket.IO''s namespace auth, graphql-ws''s connection_init payload')
            [CompletionResult]::new('--lens-host', '--lens-host', [CompletionResultType]::ParameterName, 'STOMP''s host header (RabbitMQ reads it as the virtual host) [default: the URL''s host]')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Send MSG after connecting (repeatable, in order; slash commands allowed: -x ''/ping'', -x ''/close 4000 done'')')
            [CompletionResult]::new('--execute', '--execute', [CompletionResultType]::ParameterName, 'Send MSG after connecting (repeatable, in order; slash commands allowed: -x ''/ping'', -x ''/close 4000 done'')')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'After the input ends, close SECS later, whatever arrives (wscat''s -w; ''-1'' or ''inf'' waits for the server, 0 closes at once)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'After the input ends, close SECS later, whatever arrives (wscat''s -w; ''-1'' or ''inf'' waits for the server, 0 closes at once)')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'After the input ends, close after SECS without a message from the server [default: 2, none with -w]')
            [CompletionResult]::new('--script', '--script', [CompletionResultType]::ParameterName, 'Run the commands in FILE, one per line as with -x (''#'' comments and blank lines skipped), after the -x ones')
            [CompletionResult]::new('--expect-timeout', '--expect-timeout', [CompletionResultType]::ParameterName, 'How long /expect, /expect-json and /expect-close wait for a match unless given --timeout')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit after N data messages received')
            [CompletionResult]::new('--close-code', '--close-code', [CompletionResultType]::ParameterName, 'Close code we send when we end the connection')
            [CompletionResult]::new('--close-reason', '--close-reason', [CompletionResultType]::ParameterName, 'Close reason we send when we end the connection')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured)')
            [CompletionResult]::new('--record', '--record', [CompletionResultType]::ParameterName, 'Record the session to FILE as JSON Lines (the --json events with a first `session` line; mode 0600)')
            [CompletionResult]::new('--slash', '--slash', [CompletionResultType]::ParameterName, 'wscat''s switch for slash commands: accepted, they are always on')
            [CompletionResult]::new('--require-subprotocol', '--require-subprotocol', [CompletionResultType]::ParameterName, 'Fail unless the server selects one of the offered subprotocols')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Follow 3xx redirects, printing each hop')
            [CompletionResult]::new('--location', '--location', [CompletionResultType]::ParameterName, 'Follow 3xx redirects, printing each hop')
            [CompletionResult]::new('--no-proxy', '--no-proxy', [CompletionResultType]::ParameterName, 'Ignore proxy settings from the environment')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Skip certificate and host name verification (a warning is printed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Skip certificate and host name verification (a warning is printed)')
            [CompletionResult]::new('--no-coalesce', '--no-coalesce', [CompletionResultType]::ParameterName, 'Read each message the moment it arrives. By default a fast stream is read in batches, each message waiting at most 2 ms (far less CPU for both ends)')
            [CompletionResult]::new('--no-deflate', '--no-deflate', [CompletionResultType]::ParameterName, 'Offer no compression (by default wscope offers permessage-deflate as browsers do)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the request and response in full, the handshake checks and timings')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the request and response in full, the handshake checks and timings')
            [CompletionResult]::new('--dump', '--dump', [CompletionResultType]::ParameterName, 'Show every frame on the wire, decoded field by field, with a hex dump')
            [CompletionResult]::new('--lens-passive', '--lens-passive', [CompletionResultType]::ParameterName, 'Decode only: the lens sends nothing by itself (no protocol handshake, no answers to its pings)')
            [CompletionResult]::new('--no-repl', '--no-repl', [CompletionResultType]::ParameterName, 'With -x on a terminal, exit after the -x messages instead of opening the REPL')
            [CompletionResult]::new('-1', '-1', [CompletionResultType]::ParameterName, 'Exit after the first data message received')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Exit after the first data message received')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Echo every data message received back to the server (a mirror client)')
            [CompletionResult]::new('--binary', '--binary', [CompletionResultType]::ParameterName, 'Binary mode: each stdin line is a binary message, and binary replies are written raw')
            [CompletionResult]::new('--stdin-whole', '--stdin-whole', [CompletionResultType]::ParameterName, 'Send all of stdin as one message')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not read or write the REPL history file')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON object per event (sent, received, ping, pong, close, error) on stdout')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'Prefix every event with the time')
            [CompletionResult]::new('--timestamps', '--timestamps', [CompletionResultType]::ParameterName, 'Prefix every event with the time')
            [CompletionResult]::new('--pretty', '--pretty', [CompletionResultType]::ParameterName, 'Pretty-print received JSON text')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Show ping and pong frames in pipe mode (always shown in the REPL)')
            [CompletionResult]::new('--show-ping-pong', '--show-ping-pong', [CompletionResultType]::ParameterName, 'Show ping and pong frames in pipe mode (always shown in the REPL)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never (wscat''s spelling)')
            [CompletionResult]::new('--record-secrets', '--record-secrets', [CompletionResultType]::ParameterName, 'Keep Authorization, Cookie and Proxy-Authorization values in the --record file (redacted by default)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show the opening handshake in full, close cleanly, exit 0 only if every check passed')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Check a server: Origin policy, versions, protocol violations, limits, TLS (one line each)')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Run a WebSocket server for testing: prints what clients send, --echo echoes it back')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Replay a recording (a --record transcript or a browser HAR export) against a server')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'wscope;inspect' {
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable; replaces a default header of the same name)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable; replaces a default header of the same name)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Offer a subprotocol (repeatable; offered in order)')
            [CompletionResult]::new('--subprotocol', '--subprotocol', [CompletionResultType]::ParameterName, 'Offer a subprotocol (repeatable; offered in order)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Origin header to send')
            [CompletionResult]::new('--origin', '--origin', [CompletionResultType]::ParameterName, 'Origin header to send')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'Basic credentials ''user:pass'' (also taken from user:pass@ in the URL)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'Sec-WebSocket-Version to send, to see how a server answers other versions')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)')
            [CompletionResult]::new('--max-redirects', '--max-redirects', [CompletionResultType]::ParameterName, 'Most redirects to follow with --location')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate, PEM (with --key)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key, PEM PKCS#8 ''BEGIN PRIVATE KEY'' (with --cert)')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest message or frame accepted from the server; bigger closes with 1009 [at least 125; suffixes: K, M, G]')
            [CompletionResult]::new('--deflate', '--deflate', [CompletionResultType]::ParameterName, 'Offer permessage-deflate with exactly these parameters, e.g. ''server_no_context_takeover; client_max_window_bits=10'' [default: ''client_max_window_bits'']')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--require-subprotocol', '--require-subprotocol', [CompletionResultType]::ParameterName, 'Fail unless the server selects one of the offered subprotocols')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Follow 3xx redirects, printing each hop')
            [CompletionResult]::new('--location', '--location', [CompletionResultType]::ParameterName, 'Follow 3xx redirects, printing each hop')
            [CompletionResult]::new('--no-proxy', '--no-proxy', [CompletionResultType]::ParameterName, 'Ignore proxy settings from the environment')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Skip certificate and host name verification (a warning is printed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Skip certificate and host name verification (a warning is printed)')
            [CompletionResult]::new('--no-coalesce', '--no-coalesce', [CompletionResultType]::ParameterName, 'Read each message the moment it arrives. By default a fast stream is read in batches, each message waiting at most 2 ms (far less CPU for both ends)')
            [CompletionResult]::new('--no-deflate', '--no-deflate', [CompletionResultType]::ParameterName, 'Offer no compression (by default wscope offers permessage-deflate as browsers do)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the request and response in full, the handshake checks and timings')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the request and response in full, the handshake checks and timings')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object with the whole report')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'wscope;probe' {
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable; replaces a default header of the same name)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable; replaces a default header of the same name)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Offer a subprotocol (repeatable; offered in order)')
            [CompletionResult]::new('--subprotocol', '--subprotocol', [CompletionResultType]::ParameterName, 'Offer a subprotocol (repeatable; offered in order)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Origin header to send')
            [CompletionResult]::new('--origin', '--origin', [CompletionResultType]::ParameterName, 'Origin header to send')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'Basic credentials ''user:pass'' (also taken from user:pass@ in the URL)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'Sec-WebSocket-Version to send, to see how a server answers other versions')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)')
            [CompletionResult]::new('--max-redirects', '--max-redirects', [CompletionResultType]::ParameterName, 'Most redirects to follow with --location')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate, PEM (with --key)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key, PEM PKCS#8 ''BEGIN PRIVATE KEY'' (with --cert)')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest message or frame accepted from the server; bigger closes with 1009 [at least 125; suffixes: K, M, G]')
            [CompletionResult]::new('--deflate', '--deflate', [CompletionResultType]::ParameterName, 'Offer permessage-deflate with exactly these parameters, e.g. ''server_no_context_takeover; client_max_window_bits=10'' [default: ''client_max_window_bits'']')
            [CompletionResult]::new('--only', '--only', [CompletionResultType]::ParameterName, 'Run only these checks (comma-separated ids, repeatable)')
            [CompletionResult]::new('--skip', '--skip', [CompletionResultType]::ParameterName, 'Leave these checks out (comma-separated ids, repeatable)')
            [CompletionResult]::new('--probe-max', '--probe-max', [CompletionResultType]::ParameterName, 'Largest message max-message tries (K, M, G suffixes)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('--require-subprotocol', '--require-subprotocol', [CompletionResultType]::ParameterName, 'Fail unless the server selects one of the offered subprotocols')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Follow 3xx redirects, printing each hop')
            [CompletionResult]::new('--location', '--location', [CompletionResultType]::ParameterName, 'Follow 3xx redirects, printing each hop')
            [CompletionResult]::new('--no-proxy', '--no-proxy', [CompletionResultType]::ParameterName, 'Ignore proxy settings from the environment')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Skip certificate and host name verification (a warning is printed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Skip certificate and host name verification (a warning is printed)')
            [CompletionResult]::new('--no-coalesce', '--no-coalesce', [CompletionResultType]::ParameterName, 'Read each message the moment it arrives. By default a fast stream is read in batches, each message waiting at most 2 ms (far less CPU for both ends)')
            [CompletionResult]::new('--no-deflate', '--no-deflate', [CompletionResultType]::ParameterName, 'Offer no compression (by default wscope offers permessage-deflate as browsers do)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the request and response in full, the handshake checks and timings')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the request and response in full, the handshake checks and timings')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object: url, checks (id, status, title, detail), summary')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'wscope;listen' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Subprotocol to accept (repeatable; the first one a client offers that is listed here wins)')
            [CompletionResult]::new('--subprotocol', '--subprotocol', [CompletionResultType]::ParameterName, 'Subprotocol to accept (repeatable; the first one a client offers that is listed here wins)')
            [CompletionResult]::new('--origin-allow', '--origin-allow', [CompletionResultType]::ParameterName, 'Accept only these Origins (repeatable; ''*'' wildcards); others get 403')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra response header, ''Name: value'' (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra response header, ''Name: value'' (repeatable)')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Certificate chain for wss, PEM (with --tls-key)')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'Private key for wss, PEM PKCS#8 (with --tls-cert)')
            [CompletionResult]::new('--max-clients', '--max-clients', [CompletionResultType]::ParameterName, 'Most clients at once; more are refused with 503')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest message accepted from a client [suffixes: K, M, G]')
            [CompletionResult]::new('--dump-limit', '--dump-limit', [CompletionResultType]::ParameterName, 'Bytes of each payload shown by --dump before the rest is elided')
            [CompletionResult]::new('--replay', '--replay', [CompletionResultType]::ParameterName, 'A mock server: answer each client with the server messages of this recording (a --record transcript or a HAR export), each after the client message that preceded it')
            [CompletionResult]::new('--lens', '--lens', [CompletionResultType]::ParameterName, 'Decode what clients send with a lens: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured)')
            [CompletionResult]::new('--record', '--record', [CompletionResultType]::ParameterName, 'Record the session to FILE as JSON Lines (the --json events with a first `session` line; mode 0600)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Echo every message back to the client that sent it')
            [CompletionResult]::new('--require-subprotocol', '--require-subprotocol', [CompletionResultType]::ParameterName, 'Refuse clients that offer none of the -s subprotocols (400)')
            [CompletionResult]::new('--no-deflate', '--no-deflate', [CompletionResultType]::ParameterName, 'Decline permessage-deflate (by default a client''s offer is accepted, within what it allows)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show each client''s handshake')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show each client''s handshake')
            [CompletionResult]::new('--dump', '--dump', [CompletionResultType]::ParameterName, 'Show every frame on the wire')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not read or write the REPL history file')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON object per event (sent, received, ping, pong, close, error) on stdout')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'Prefix every event with the time')
            [CompletionResult]::new('--timestamps', '--timestamps', [CompletionResultType]::ParameterName, 'Prefix every event with the time')
            [CompletionResult]::new('--pretty', '--pretty', [CompletionResultType]::ParameterName, 'Pretty-print received JSON text')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Show ping and pong frames in pipe mode (always shown in the REPL)')
            [CompletionResult]::new('--show-ping-pong', '--show-ping-pong', [CompletionResultType]::ParameterName, 'Show ping and pong frames in pipe mode (always shown in the REPL)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never (wscat''s spelling)')
            [CompletionResult]::new('--record-secrets', '--record-secrets', [CompletionResultType]::ParameterName, 'Keep Authorization, Cookie and Proxy-Authorization values in the --record file (redacted by default)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'wscope;replay' {
            [CompletionResult]::new('--entry', '--entry', [CompletionResultType]::ParameterName, 'Which WebSocket of the recording to replay, counted from 0 (see --list) [default: 0]')
            [CompletionResult]::new('--speed', '--speed', [CompletionResultType]::ParameterName, 'Play the recorded gaps between messages X times faster (0.5 is half speed) [default: 1]')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable; replaces a default header of the same name)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra request header, ''Name: value'' (repeatable; replaces a default header of the same name)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Offer a subprotocol (repeatable; offered in order)')
            [CompletionResult]::new('--subprotocol', '--subprotocol', [CompletionResultType]::ParameterName, 'Offer a subprotocol (repeatable; offered in order)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Origin header to send')
            [CompletionResult]::new('--origin', '--origin', [CompletionResultType]::ParameterName, 'Origin header to send')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'Basic credentials ''user:pass'' (also taken from user:pass@ in the URL)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'Sec-WebSocket-Version to send, to see how a server answers other versions')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)')
            [CompletionResult]::new('--max-redirects', '--max-redirects', [CompletionResultType]::ParameterName, 'Most redirects to follow with --location')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate, PEM (with --key)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key, PEM PKCS#8 ''BEGIN PRIVATE KEY'' (with --cert)')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest message or frame accepted from the server; bigger closes with 1009 [at least 125; suffixes: K, M, G]')
            [CompletionResult]::new('--deflate', '--deflate', [CompletionResultType]::ParameterName, 'Offer permessage-deflate with exactly these parameters, e.g. ''server_no_context_takeover; client_max_window_bits=10'' [default: ''client_max_window_bits'']')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send a ping every SECS and show its round-trip time [at least 0.1]')
            [CompletionResult]::new('--ping-timeout', '--ping-timeout', [CompletionResultType]::ParameterName, 'Close the connection as dead when no pong arrives within SECS of a ping [at least 0.1]')
            [CompletionResult]::new('--reconnect', '--reconnect', [CompletionResultType]::ParameterName, 'Connect again when the connection drops or the server closes with 1001, 1011, 1012 or 1013 (backoff 0.5 s to 30 s), up to MAX attempts in a row [''inf'': no limit; default: none in the REPL, 5 otherwise]')
            [CompletionResult]::new('--dump-limit', '--dump-limit', [CompletionResultType]::ParameterName, 'Bytes of each payload shown by --dump before the rest is elided')
            [CompletionResult]::new('--dump-file', '--dump-file', [CompletionResultType]::ParameterName, 'Write the frame dump to FILE instead of stderr (implies --dump)')
            [CompletionResult]::new('--lens', '--lens', [CompletionResultType]::ParameterName, 'Decode and speak the protocol inside: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor, or none [default: chosen from a /socket.io/ path or a graphql-ws subprotocol]')
            [CompletionResult]::new('--lens-auth', '--lens-auth', [CompletionResultType]::ParameterName, 'JSON the lens authenticates with: Socket.IO''s namespace auth, graphql-ws''s connection_init payload')
            [CompletionResult]::new('--lens-host', '--lens-host', [CompletionResultType]::ParameterName, 'STOMP''s host header (RabbitMQ reads it as the virtual host) [default: the URL''s host]')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Send MSG after connecting (repeatable, in order; slash commands allowed: -x ''/ping'', -x ''/close 4000 done'')')
            [CompletionResult]::new('--execute', '--execute', [CompletionResultType]::ParameterName, 'Send MSG after connecting (repeatable, in order; slash commands allowed: -x ''/ping'', -x ''/close 4000 done'')')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'After the input ends, close SECS later, whatever arrives (wscat''s -w; ''-1'' or ''inf'' waits for the server, 0 closes at once)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'After the input ends, close SECS later, whatever arrives (wscat''s -w; ''-1'' or ''inf'' waits for the server, 0 closes at once)')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'After the input ends, close after SECS without a message from the server [default: 2, none with -w]')
            [CompletionResult]::new('--script', '--script', [CompletionResultType]::ParameterName, 'Run the commands in FILE, one per line as with -x (''#'' comments and blank lines skipped), after the -x ones')
            [CompletionResult]::new('--expect-timeout', '--expect-timeout', [CompletionResultType]::ParameterName, 'How long /expect, /expect-json and /expect-close wait for a match unless given --timeout')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit after N data messages received')
            [CompletionResult]::new('--close-code', '--close-code', [CompletionResultType]::ParameterName, 'Close code we send when we end the connection')
            [CompletionResult]::new('--close-reason', '--close-reason', [CompletionResultType]::ParameterName, 'Close reason we send when we end the connection')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (NO_COLOR is honoured)')
            [CompletionResult]::new('--record', '--record', [CompletionResultType]::ParameterName, 'Record the session to FILE as JSON Lines (the --json events with a first `session` line; mode 0600)')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'List the recording''s WebSockets (index, URL, messages each way) and exit')
            [CompletionResult]::new('--fast', '--fast', [CompletionResultType]::ParameterName, 'Send the messages one after the other, without the recorded gaps')
            [CompletionResult]::new('--har-cookies', '--har-cookies', [CompletionResultType]::ParameterName, 'Also send the Cookie header of a HAR entry (left out by default)')
            [CompletionResult]::new('--require-subprotocol', '--require-subprotocol', [CompletionResultType]::ParameterName, 'Fail unless the server selects one of the offered subprotocols')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Follow 3xx redirects, printing each hop')
            [CompletionResult]::new('--location', '--location', [CompletionResultType]::ParameterName, 'Follow 3xx redirects, printing each hop')
            [CompletionResult]::new('--no-proxy', '--no-proxy', [CompletionResultType]::ParameterName, 'Ignore proxy settings from the environment')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Skip certificate and host name verification (a warning is printed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Skip certificate and host name verification (a warning is printed)')
            [CompletionResult]::new('--no-coalesce', '--no-coalesce', [CompletionResultType]::ParameterName, 'Read each message the moment it arrives. By default a fast stream is read in batches, each message waiting at most 2 ms (far less CPU for both ends)')
            [CompletionResult]::new('--no-deflate', '--no-deflate', [CompletionResultType]::ParameterName, 'Offer no compression (by default wscope offers permessage-deflate as browsers do)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the request and response in full, the handshake checks and timings')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the request and response in full, the handshake checks and timings')
            [CompletionResult]::new('--dump', '--dump', [CompletionResultType]::ParameterName, 'Show every frame on the wire, decoded field by field, with a hex dump')
            [CompletionResult]::new('--lens-passive', '--lens-passive', [CompletionResultType]::ParameterName, 'Decode only: the lens sends nothing by itself (no protocol handshake, no answers to its pings)')
            [CompletionResult]::new('--no-repl', '--no-repl', [CompletionResultType]::ParameterName, 'With -x on a terminal, exit after the -x messages instead of opening the REPL')
            [CompletionResult]::new('-1', '-1', [CompletionResultType]::ParameterName, 'Exit after the first data message received')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Exit after the first data message received')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Echo every data message received back to the server (a mirror client)')
            [CompletionResult]::new('--binary', '--binary', [CompletionResultType]::ParameterName, 'Binary mode: each stdin line is a binary message, and binary replies are written raw')
            [CompletionResult]::new('--stdin-whole', '--stdin-whole', [CompletionResultType]::ParameterName, 'Send all of stdin as one message')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not read or write the REPL history file')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON object per event (sent, received, ping, pong, close, error) on stdout')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'Prefix every event with the time')
            [CompletionResult]::new('--timestamps', '--timestamps', [CompletionResultType]::ParameterName, 'Prefix every event with the time')
            [CompletionResult]::new('--pretty', '--pretty', [CompletionResultType]::ParameterName, 'Pretty-print received JSON text')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Show ping and pong frames in pipe mode (always shown in the REPL)')
            [CompletionResult]::new('--show-ping-pong', '--show-ping-pong', [CompletionResultType]::ParameterName, 'Show ping and pong frames in pipe mode (always shown in the REPL)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never (wscat''s spelling)')
            [CompletionResult]::new('--record-secrets', '--record-secrets', [CompletionResultType]::ParameterName, 'Keep Authorization, Cookie and Proxy-Authorization values in the --record file (redacted by default)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'wscope;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'wscope;help' {
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show the opening handshake in full, close cleanly, exit 0 only if every check passed')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Check a server: Origin policy, versions, protocol violations, limits, TLS (one line each)')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Run a WebSocket server for testing: prints what clients send, --echo echoes it back')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Replay a recording (a --record transcript or a browser HAR export) against a server')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'wscope;help;inspect' {
            break
        }
        'wscope;help;probe' {
            break
        }
        'wscope;help;listen' {
            break
        }
        'wscope;help;replay' {
            break
        }
        'wscope;help;completions' {
            break
        }
        'wscope;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
