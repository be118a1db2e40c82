
use builtin;
use str;

set edit:completion:arg-completer[wscope] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'wscope'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'wscope'= {
            cand -c 'wscat''s spelling of the URL argument'
            cand --connect 'wscat''s spelling of the URL argument'
            cand -l 'wscat''s spelling of `wscope listen PORT`'
            cand --listen 'wscat''s spelling of `wscope listen PORT`'
            cand -H 'Extra request header, ''Name: value'' (repeatable; replaces a default header of the same name)'
            cand --header 'Extra request header, ''Name: value'' (repeatable; replaces a default header of the same name)'
            cand -s 'Offer a subprotocol (repeatable; offered in order)'
            cand --subprotocol 'Offer a subprotocol (repeatable; offered in order)'
            cand -o 'Origin header to send'
            cand --origin 'Origin header to send'
            cand --auth 'Basic credentials ''user:pass'' (also taken from user:pass@ in the URL)'
            cand --protocol-version 'Sec-WebSocket-Version to send, to see how a server answers other versions'
            cand --connect-timeout 'Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)'
            cand --max-redirects 'Most redirects to follow with --location'
            cand --proxy 'Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]'
            cand --ca 'Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)'
            cand --cert 'Client certificate, PEM (with --key)'
            cand --key 'Client private key, PEM PKCS#8 ''BEGIN PRIVATE KEY'' (with --cert)'
            cand --max-message-size 'Largest message or frame accepted from the server; bigger closes with 1009 [at least 125; suffixes: K, M, G]'
            cand --deflate 'Offer permessage-deflate with exactly these parameters, e.g. ''server_no_context_takeover; client_max_window_bits=10'' [default: ''client_max_window_bits'']'
            cand --ping-interval 'Send a ping every SECS and show its round-trip time [at least 0.1]'
            cand --ping-timeout 'Close the connection as dead when no pong arrives within SECS of a ping [at least 0.1]'
            cand --reconnect 'Connect again when the connection drops or the server closes with 1001, 1011, 1012 or 1013 (backoff 0.5 s to 30 s), up to MAX attempts in a row [''inf'': no limit; default: none in the REPL, 5 otherwise]'
            cand --dump-limit 'Bytes of each payload shown by --dump before the rest is elided'
            cand --dump-file 'Write the frame dump to FILE instead of stderr (implies --dump)'
            cand -x 'Send MSG after connecting (repeatable, in order; slash commands allowed: -x ''/ping'', -x ''/close 4000 done'')'
            cand --execute 'Send MSG after connecting (repeatable, in order; slash commands allowed: -x ''/ping'', -x ''/close 4000 done'')'
            cand -w 'After the input ends, close SECS later, whatever arrives (wscat''s -w; ''-1'' or ''inf'' waits for the server, 0 closes at once)'
            cand --wait 'After the input ends, close SECS later, whatever arrives (wscat''s -w; ''-1'' or ''inf'' waits for the server, 0 closes at once)'
            cand --idle 'After the input ends, close after SECS without a message from the server [default: 2, none with -w]'
            cand --script 'Run the commands in FILE, one per line as with -x (''#'' comments and blank lines skipped), after the -x ones'
            cand --expect-timeout 'How long /expect, /expect-json and /expect-close wait for a match unless given --timeout'
            cand --count 'Exit after N data messages received'
            cand --close-code 'Close code we send when we end the connection'
            cand --close-reason 'Close reason we send when we end the connection'
            cand --color 'When to use colours (NO_COLOR is honoured)'
            cand --slash 'wscat''s switch for slash commands: accepted, they are always on'
            cand --require-subprotocol 'Fail unless the server selects one of the offered subprotocols'
            cand -L 'Follow 3xx redirects, printing each hop'
            cand --location 'Follow 3xx redirects, printing each hop'
            cand --no-proxy 'Ignore proxy settings from the environment'
            cand -k 'Skip certificate and host name verification (a warning is printed)'
            cand --insecure 'Skip certificate and host name verification (a warning is printed)'
            cand --no-coalesce 'Read each message the moment it arrives. By default a fast stream is read in batches, each message waiting at most 2 ms (far less CPU for both ends)'
            cand --no-deflate 'Offer no compression (by default wscope offers permessage-deflate as browsers do)'
            cand -v 'Show the request and response in full, the handshake checks and timings'
            cand --verbose 'Show the request and response in full, the handshake checks and timings'
            cand --dump 'Show every frame on the wire, decoded field by field, with a hex dump'
            cand --no-repl 'With -x on a terminal, exit after the -x messages instead of opening the REPL'
            cand -1 'Exit after the first data message received'
            cand --once 'Exit after the first data message received'
            cand --echo 'Echo every data message received back to the server (a mirror client)'
            cand --binary 'Binary mode: each stdin line is a binary message, and binary replies are written raw'
            cand --stdin-whole 'Send all of stdin as one message'
            cand --no-history 'Do not read or write the REPL history file'
            cand --json 'One JSON object per event (sent, received, ping, pong, close, error) on stdout'
            cand -T 'Prefix every event with the time'
            cand --timestamps 'Prefix every event with the time'
            cand --pretty 'Pretty-print received JSON text'
            cand -P 'Show ping and pong frames in pipe mode (always shown in the REPL)'
            cand --show-ping-pong 'Show ping and pong frames in pipe mode (always shown in the REPL)'
            cand --no-color 'Same as --color never (wscat''s spelling)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand inspect 'Show the opening handshake in full, close cleanly, exit 0 only if every check passed'
            cand listen 'Run a WebSocket server for testing: prints what clients send, --echo echoes it back'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'wscope;inspect'= {
            cand -H 'Extra request header, ''Name: value'' (repeatable; replaces a default header of the same name)'
            cand --header 'Extra request header, ''Name: value'' (repeatable; replaces a default header of the same name)'
            cand -s 'Offer a subprotocol (repeatable; offered in order)'
            cand --subprotocol 'Offer a subprotocol (repeatable; offered in order)'
            cand -o 'Origin header to send'
            cand --origin 'Origin header to send'
            cand --auth 'Basic credentials ''user:pass'' (also taken from user:pass@ in the URL)'
            cand --protocol-version 'Sec-WebSocket-Version to send, to see how a server answers other versions'
            cand --connect-timeout 'Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)'
            cand --max-redirects 'Most redirects to follow with --location'
            cand --proxy 'Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]'
            cand --ca 'Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)'
            cand --cert 'Client certificate, PEM (with --key)'
            cand --key 'Client private key, PEM PKCS#8 ''BEGIN PRIVATE KEY'' (with --cert)'
            cand --max-message-size 'Largest message or frame accepted from the server; bigger closes with 1009 [at least 125; suffixes: K, M, G]'
            cand --deflate 'Offer permessage-deflate with exactly these parameters, e.g. ''server_no_context_takeover; client_max_window_bits=10'' [default: ''client_max_window_bits'']'
            cand --color 'When to use colours'
            cand --require-subprotocol 'Fail unless the server selects one of the offered subprotocols'
            cand -L 'Follow 3xx redirects, printing each hop'
            cand --location 'Follow 3xx redirects, printing each hop'
            cand --no-proxy 'Ignore proxy settings from the environment'
            cand -k 'Skip certificate and host name verification (a warning is printed)'
            cand --insecure 'Skip certificate and host name verification (a warning is printed)'
            cand --no-coalesce 'Read each message the moment it arrives. By default a fast stream is read in batches, each message waiting at most 2 ms (far less CPU for both ends)'
            cand --no-deflate 'Offer no compression (by default wscope offers permessage-deflate as browsers do)'
            cand -v 'Show the request and response in full, the handshake checks and timings'
            cand --verbose 'Show the request and response in full, the handshake checks and timings'
            cand --json 'Print one JSON object with the whole report'
            cand --no-color 'Same as --color never'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'wscope;listen'= {
            cand -s 'Subprotocol to accept (repeatable; the first one a client offers that is listed here wins)'
            cand --subprotocol 'Subprotocol to accept (repeatable; the first one a client offers that is listed here wins)'
            cand --origin-allow 'Accept only these Origins (repeatable; ''*'' wildcards); others get 403'
            cand -H 'Extra response header, ''Name: value'' (repeatable)'
            cand --header 'Extra response header, ''Name: value'' (repeatable)'
            cand --tls-cert 'Certificate chain for wss, PEM (with --tls-key)'
            cand --tls-key 'Private key for wss, PEM PKCS#8 (with --tls-cert)'
            cand --max-clients 'Most clients at once; more are refused with 503'
            cand --max-message-size 'Largest message accepted from a client [suffixes: K, M, G]'
            cand --dump-limit 'Bytes of each payload shown by --dump before the rest is elided'
            cand --color 'When to use colours (NO_COLOR is honoured)'
            cand --echo 'Echo every message back to the client that sent it'
            cand --require-subprotocol 'Refuse clients that offer none of the -s subprotocols (400)'
            cand --no-deflate 'Decline permessage-deflate (by default a client''s offer is accepted, within what it allows)'
            cand -v 'Show each client''s handshake'
            cand --verbose 'Show each client''s handshake'
            cand --dump 'Show every frame on the wire'
            cand --no-history 'Do not read or write the REPL history file'
            cand --json 'One JSON object per event (sent, received, ping, pong, close, error) on stdout'
            cand -T 'Prefix every event with the time'
            cand --timestamps 'Prefix every event with the time'
            cand --pretty 'Pretty-print received JSON text'
            cand -P 'Show ping and pong frames in pipe mode (always shown in the REPL)'
            cand --show-ping-pong 'Show ping and pong frames in pipe mode (always shown in the REPL)'
            cand --no-color 'Same as --color never (wscat''s spelling)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'wscope;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'wscope;help'= {
            cand inspect 'Show the opening handshake in full, close cleanly, exit 0 only if every check passed'
            cand listen 'Run a WebSocket server for testing: prints what clients send, --echo echoes it back'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'wscope;help;inspect'= {
        }
        &'wscope;help;listen'= {
        }
        &'wscope;help;completions'= {
        }
        &'wscope;help;help'= {
        }
    ]
    $completions[$command]
}
