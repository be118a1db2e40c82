# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_wscope_global_optspecs
    string join \n c/connect= l/listen= slash H/header= s/subprotocol= require-subprotocol o/origin= auth= protocol-version= connect-timeout= L/location max-redirects= proxy= no-proxy ca= cert= key= k/insecure max-message-size= no-coalesce no-deflate deflate= http2 http2-only v/verbose ping-interval= ping-timeout= reconnect= dump dump-limit= dump-file= dump-h2 lens= lens-passive lens-auth= lens-host= proto= message= mqtt-version= x/execute= no-repl w/wait= idle= script= expect-timeout= 1/once count= close-code= close-reason= echo binary stdin-whole no-history json T/timestamps pretty P/show-ping-pong color= no-color record= record-secrets h/help V/version
end

function __fish_wscope_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_wscope_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_wscope_using_subcommand
    set -l cmd (__fish_wscope_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c wscope -n "__fish_wscope_needs_command" -s c -l connect -d 'wscat\'s spelling of the URL argument' -r
complete -c wscope -n "__fish_wscope_needs_command" -s l -l listen -d 'wscat\'s spelling of `wscope listen PORT`' -r
complete -c wscope -n "__fish_wscope_needs_command" -s H -l header -d 'Extra request header \'Name: value\' (repeatable)' -r
complete -c wscope -n "__fish_wscope_needs_command" -s s -l subprotocol -d 'Offer a subprotocol (repeatable; offered in order)' -r
complete -c wscope -n "__fish_wscope_needs_command" -s o -l origin -d 'Origin header to send' -r
complete -c wscope -n "__fish_wscope_needs_command" -l auth -d 'Basic credentials \'user:pass\' (also taken from user:pass@ in the URL)' -r
complete -c wscope -n "__fish_wscope_needs_command" -l protocol-version -d 'Sec-WebSocket-Version to send, to see how a server answers other versions' -r
complete -c wscope -n "__fish_wscope_needs_command" -l connect-timeout -d 'Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)' -r
complete -c wscope -n "__fish_wscope_needs_command" -l max-redirects -d 'Most redirects to follow with --location' -r
complete -c wscope -n "__fish_wscope_needs_command" -l proxy -d 'Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]' -r
complete -c wscope -n "__fish_wscope_needs_command" -l ca -d 'Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)' -r -F
complete -c wscope -n "__fish_wscope_needs_command" -l cert -d 'Client certificate, PEM (with --key)' -r -F
complete -c wscope -n "__fish_wscope_needs_command" -l key -d 'Client private key, PEM PKCS#8 \'BEGIN PRIVATE KEY\' (with --cert)' -r -F
complete -c wscope -n "__fish_wscope_needs_command" -l max-message-size -d 'Largest message or frame accepted from the server; bigger closes with 1009 [at least 125; suffixes: K, M, G]' -r
complete -c wscope -n "__fish_wscope_needs_command" -l deflate -d 'Offer permessage-deflate with exactly these parameters, e.g. \'server_no_context_takeover; client_max_window_bits=10\' [default: \'client_max_window_bits\']' -r
complete -c wscope -n "__fish_wscope_needs_command" -l ping-interval -d 'Send a ping every SECS and show its round-trip time [at least 0.1]' -r
complete -c wscope -n "__fish_wscope_needs_command" -l ping-timeout -d 'Close the connection as dead when no pong arrives within SECS of a ping [at least 0.1]' -r
complete -c wscope -n "__fish_wscope_needs_command" -l reconnect -d 'Connect again when the connection drops or the server closes with 1001, 1011, 1012 or 1013 (backoff 0.5 s to 30 s), up to MAX attempts in a row [\'inf\': no limit; default: none in the REPL, 5 otherwise]' -r
complete -c wscope -n "__fish_wscope_needs_command" -l dump-limit -d 'Bytes of each payload shown by --dump before the rest is elided' -r
complete -c wscope -n "__fish_wscope_needs_command" -l dump-file -d 'Write the frame dump to FILE instead of stderr (implies --dump)' -r -F
complete -c wscope -n "__fish_wscope_needs_command" -l lens -d 'Decode and speak the protocol inside: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor, protobuf, or none [default: chosen from a /socket.io/ path or a graphql-ws subprotocol]' -r
complete -c wscope -n "__fish_wscope_needs_command" -l lens-auth -d 'JSON the lens authenticates with: Socket.IO\'s namespace auth, graphql-ws\'s connection_init payload' -r
complete -c wscope -n "__fish_wscope_needs_command" -l lens-host -d 'STOMP\'s host header (RabbitMQ reads it as the virtual host) [default: the URL\'s host]' -r
complete -c wscope -n "__fish_wscope_needs_command" -l proto -d 'A .proto file for the protobuf lens (compiled at start-up; implies --lens protobuf) [default: schema-less decoding]' -r -F
complete -c wscope -n "__fish_wscope_needs_command" -l message -d 'The message of --proto that each binary message is (pkg.Name) [default: the file\'s only message]' -r
complete -c wscope -n "__fish_wscope_needs_command" -l mqtt-version -d 'The MQTT lens\'s CONNECT: 3.1.1, or 5 (properties, reason codes)' -r -f -a "3.1.1\t''
5\t''"
complete -c wscope -n "__fish_wscope_needs_command" -s x -l execute -d 'Send MSG after connecting (repeatable; slash commands allowed)' -r
complete -c wscope -n "__fish_wscope_needs_command" -s w -l wait -d 'After the input ends, close SECS later (wscat\'s -w; -1 waits for ever)' -r
complete -c wscope -n "__fish_wscope_needs_command" -l idle -d 'After the input ends, close after SECS without a message from the server [default: 2, none with -w]' -r
complete -c wscope -n "__fish_wscope_needs_command" -l script -d 'Run the commands in FILE, one per line as with -x (\'#\' comments and blank lines skipped), after the -x ones' -r -F
complete -c wscope -n "__fish_wscope_needs_command" -l expect-timeout -d 'How long /expect, /expect-json and /expect-close wait for a match unless given --timeout' -r
complete -c wscope -n "__fish_wscope_needs_command" -l count -d 'Exit after N data messages received' -r
complete -c wscope -n "__fish_wscope_needs_command" -l close-code -d 'Close code we send when we end the connection' -r
complete -c wscope -n "__fish_wscope_needs_command" -l close-reason -d 'Close reason we send when we end the connection' -r
complete -c wscope -n "__fish_wscope_needs_command" -l color -d 'When to use colours (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c wscope -n "__fish_wscope_needs_command" -l record -d 'Record the session to FILE as JSON Lines (the --json events with a first `session` line; mode 0600)' -r -F
complete -c wscope -n "__fish_wscope_needs_command" -l slash -d 'wscat\'s switch for slash commands: accepted, they are always on'
complete -c wscope -n "__fish_wscope_needs_command" -l require-subprotocol -d 'Fail unless the server selects one of the offered subprotocols'
complete -c wscope -n "__fish_wscope_needs_command" -s L -l location -d 'Follow 3xx redirects, printing each hop'
complete -c wscope -n "__fish_wscope_needs_command" -l no-proxy -d 'Ignore proxy settings from the environment'
complete -c wscope -n "__fish_wscope_needs_command" -s k -l insecure -d 'Skip certificate and host name verification (a warning is printed)'
complete -c wscope -n "__fish_wscope_needs_command" -l no-coalesce -d 'Read each message the moment it arrives. By default a fast stream is read in batches, each message waiting at most 2 ms (far less CPU for both ends)'
complete -c wscope -n "__fish_wscope_needs_command" -l no-deflate -d 'Offer no compression (by default wscope offers permessage-deflate as browsers do)'
complete -c wscope -n "__fish_wscope_needs_command" -l http2 -d 'Open the WebSocket over HTTP/2 (RFC 8441): ALPN h2 on wss, h2c prior knowledge on ws; falls back to HTTP/1.1 with a note when the server cannot'
complete -c wscope -n "__fish_wscope_needs_command" -l http2-only -d 'Like --http2, but fail (exit 5) instead of falling back to HTTP/1.1'
complete -c wscope -n "__fish_wscope_needs_command" -s v -l verbose -d 'Show the handshake in full, its checks and timings'
complete -c wscope -n "__fish_wscope_needs_command" -l dump -d 'Show every frame on the wire, decoded field by field, with a hex dump'
complete -c wscope -n "__fish_wscope_needs_command" -l dump-h2 -d 'With --dump and --http2: also show each HTTP/2 frame header on the connection (type, flags, stream, length)'
complete -c wscope -n "__fish_wscope_needs_command" -l lens-passive -d 'Decode only: the lens sends nothing by itself (no protocol handshake, no answers to its pings)'
complete -c wscope -n "__fish_wscope_needs_command" -l no-repl -d 'With -x on a terminal, exit after the -x messages instead of opening the REPL'
complete -c wscope -n "__fish_wscope_needs_command" -s 1 -l once -d 'Exit after the first data message received'
complete -c wscope -n "__fish_wscope_needs_command" -l echo -d 'Echo every data message received back to the server (a mirror client)'
complete -c wscope -n "__fish_wscope_needs_command" -l binary -d 'Binary mode: each stdin line is a binary message, and binary replies are written raw'
complete -c wscope -n "__fish_wscope_needs_command" -l stdin-whole -d 'Send all of stdin as one message'
complete -c wscope -n "__fish_wscope_needs_command" -l no-history -d 'Do not read or write the REPL history file'
complete -c wscope -n "__fish_wscope_needs_command" -l json -d 'One JSON object per event (sent, received, ping, pong, close, error) on stdout'
complete -c wscope -n "__fish_wscope_needs_command" -s T -l timestamps -d 'Prefix every event with the time'
complete -c wscope -n "__fish_wscope_needs_command" -l pretty -d 'Pretty-print received JSON text'
complete -c wscope -n "__fish_wscope_needs_command" -s P -l show-ping-pong -d 'Show ping and pong frames in pipe mode (always shown in the REPL)'
complete -c wscope -n "__fish_wscope_needs_command" -l no-color -d 'Same as --color never (wscat\'s spelling)'
complete -c wscope -n "__fish_wscope_needs_command" -l record-secrets -d 'Keep Authorization, Cookie and Proxy-Authorization values in the --record file (redacted by default)'
complete -c wscope -n "__fish_wscope_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c wscope -n "__fish_wscope_needs_command" -s V -l version -d 'Print version'
complete -c wscope -n "__fish_wscope_needs_command" -a "inspect" -d 'Show the opening handshake in full, close cleanly, exit 0 only if every check passed'
complete -c wscope -n "__fish_wscope_needs_command" -a "probe" -d 'Check a server: handshake, Origin policy, negotiation, frame rules, limits, TLS'
complete -c wscope -n "__fish_wscope_needs_command" -a "listen" -d 'Run a WebSocket server for testing: prints what clients send, --echo echoes it back'
complete -c wscope -n "__fish_wscope_needs_command" -a "replay" -d 'Replay a recording (a --record transcript or a browser HAR export) against a server'
complete -c wscope -n "__fish_wscope_needs_command" -a "proxy" -d 'An inspecting relay: clients connect here, each is relayed to URL, both sides shown'
complete -c wscope -n "__fish_wscope_needs_command" -a "bench" -d 'Load and latency: many connections, messages, round-trip percentiles (HDR histogram)'
complete -c wscope -n "__fish_wscope_needs_command" -a "completions" -d 'Print a shell completion script to stdout'
complete -c wscope -n "__fish_wscope_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -s H -l header -d 'Extra request header \'Name: value\' (repeatable)' -r
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -s s -l subprotocol -d 'Offer a subprotocol (repeatable; offered in order)' -r
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -s o -l origin -d 'Origin header to send' -r
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l auth -d 'Basic credentials \'user:pass\' (also taken from user:pass@ in the URL)' -r
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l protocol-version -d 'Sec-WebSocket-Version to send, to see how a server answers other versions' -r
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l connect-timeout -d 'Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)' -r
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l max-redirects -d 'Most redirects to follow with --location' -r
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l proxy -d 'Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]' -r
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l ca -d 'Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l cert -d 'Client certificate, PEM (with --key)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l key -d 'Client private key, PEM PKCS#8 \'BEGIN PRIVATE KEY\' (with --cert)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l max-message-size -d 'Largest message or frame accepted from the server; bigger closes with 1009 [at least 125; suffixes: K, M, G]' -r
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l deflate -d 'Offer permessage-deflate with exactly these parameters, e.g. \'server_no_context_takeover; client_max_window_bits=10\' [default: \'client_max_window_bits\']' -r
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l dump-limit -d 'Bytes of each payload shown by --dump before the rest is elided' -r
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l dump-file -d 'Write the frame dump to FILE instead of stderr (implies --dump)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l require-subprotocol -d 'Fail unless the server selects one of the offered subprotocols'
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -s L -l location -d 'Follow 3xx redirects, printing each hop'
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l no-proxy -d 'Ignore proxy settings from the environment'
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -s k -l insecure -d 'Skip certificate and host name verification (a warning is printed)'
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l no-coalesce -d 'Read each message the moment it arrives. By default a fast stream is read in batches, each message waiting at most 2 ms (far less CPU for both ends)'
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l no-deflate -d 'Offer no compression (by default wscope offers permessage-deflate as browsers do)'
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l http2 -d 'Open the WebSocket over HTTP/2 (RFC 8441): ALPN h2 on wss, h2c prior knowledge on ws; falls back to HTTP/1.1 with a note when the server cannot'
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l http2-only -d 'Like --http2, but fail (exit 5) instead of falling back to HTTP/1.1'
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -s v -l verbose -d 'Show the handshake in full, its checks and timings'
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l json -d 'Print one JSON object with the whole report'
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l dump -d 'Show the frames of the close (and any the server sent before it), decoded, with a hex dump'
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -l no-color -d 'Same as --color never'
complete -c wscope -n "__fish_wscope_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c wscope -n "__fish_wscope_using_subcommand probe" -s H -l header -d 'Extra request header \'Name: value\' (repeatable)' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -s s -l subprotocol -d 'Offer a subprotocol (repeatable; offered in order)' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -s o -l origin -d 'Origin header to send' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l auth -d 'Basic credentials \'user:pass\' (also taken from user:pass@ in the URL)' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l protocol-version -d 'Sec-WebSocket-Version to send, to see how a server answers other versions' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l connect-timeout -d 'Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l max-redirects -d 'Most redirects to follow with --location' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l proxy -d 'Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l ca -d 'Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l cert -d 'Client certificate, PEM (with --key)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l key -d 'Client private key, PEM PKCS#8 \'BEGIN PRIVATE KEY\' (with --cert)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l max-message-size -d 'Largest message or frame accepted from the server; bigger closes with 1009 [at least 125; suffixes: K, M, G]' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l deflate -d 'Offer permessage-deflate with exactly these parameters, e.g. \'server_no_context_takeover; client_max_window_bits=10\' [default: \'client_max_window_bits\']' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l only -d 'Run only these checks (comma-separated ids, repeatable); the expensive ones only run so' -r -f -a "origin-foreign\t''
origin-null\t''
origin-missing\t''
origin-variants\t''
cookie-only\t''
host-missing\t''
http10\t''
key-missing\t''
key-malformed\t''
key-duplicate\t''
headers-large\t''
headers-many\t''
version\t''
subprotocol\t''
subprotocol-choice\t''
deflate\t''
extensions\t''
deflate-params\t''
deflate-bomb\t''
ping\t''
close\t''
utf8\t''
utf8-fragmented\t''
unmasked\t''
rsv1\t''
rsv\t''
rsv3\t''
opcode\t''
continuation-start\t''
fragment-interleaved\t''
control-fragmented\t''
control-oversized\t''
close-codes\t''
close-short\t''
length-nonminimal\t''
length-64bit\t''
max-message\t''
max-frame\t''
idle\t''
server-ping\t''
connections\t''
tls\t''
fingerprint\t''"
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l skip -d 'Leave these checks out (comma-separated ids, repeatable)' -r -f -a "origin-foreign\t''
origin-null\t''
origin-missing\t''
origin-variants\t''
cookie-only\t''
host-missing\t''
http10\t''
key-missing\t''
key-malformed\t''
key-duplicate\t''
headers-large\t''
headers-many\t''
version\t''
subprotocol\t''
subprotocol-choice\t''
deflate\t''
extensions\t''
deflate-params\t''
deflate-bomb\t''
ping\t''
close\t''
utf8\t''
utf8-fragmented\t''
unmasked\t''
rsv1\t''
rsv\t''
rsv3\t''
opcode\t''
continuation-start\t''
fragment-interleaved\t''
control-fragmented\t''
control-oversized\t''
close-codes\t''
close-short\t''
length-nonminimal\t''
length-64bit\t''
max-message\t''
max-frame\t''
idle\t''
server-ping\t''
connections\t''
tls\t''
fingerprint\t''"
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l probe-max -d 'Largest message max-message tries (K, M, G suffixes)' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l probe-rate -d 'At most this many messages (and new connections) a second in the limit searches' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l probe-idle -d 'Run idle and server-ping, waiting up to this long for the server to close or ping' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l probe-conns -d 'Run connections: open up to N connections at once to find the server\'s per-client limit' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l cookie -d 'Send this cookie with every check, and run cookie-only (\'name=value; ...\')' -r
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l sarif -d 'Also write the failed and warned checks as SARIF 2.1.0 (code-scanning dashboards)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l color -d 'When to use colours' -r -f -a "auto\t''
always\t''
never\t''"
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l require-subprotocol -d 'Fail unless the server selects one of the offered subprotocols'
complete -c wscope -n "__fish_wscope_using_subcommand probe" -s L -l location -d 'Follow 3xx redirects, printing each hop'
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l no-proxy -d 'Ignore proxy settings from the environment'
complete -c wscope -n "__fish_wscope_using_subcommand probe" -s k -l insecure -d 'Skip certificate and host name verification (a warning is printed)'
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l no-coalesce -d 'Read each message the moment it arrives. By default a fast stream is read in batches, each message waiting at most 2 ms (far less CPU for both ends)'
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l no-deflate -d 'Offer no compression (by default wscope offers permessage-deflate as browsers do)'
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l http2 -d 'Open the WebSocket over HTTP/2 (RFC 8441): ALPN h2 on wss, h2c prior knowledge on ws; falls back to HTTP/1.1 with a note when the server cannot'
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l http2-only -d 'Like --http2, but fail (exit 5) instead of falling back to HTTP/1.1'
complete -c wscope -n "__fish_wscope_using_subcommand probe" -s v -l verbose -d 'Show the handshake in full, its checks and timings'
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l fingerprint -d 'Also name the server\'s library or product, with a confidence and the evidence'
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l json -d 'Print one JSON object: url, checks (id, status, title, detail), summary'
complete -c wscope -n "__fish_wscope_using_subcommand probe" -l no-color -d 'Same as --color never'
complete -c wscope -n "__fish_wscope_using_subcommand probe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -s s -l subprotocol -d 'Subprotocol to accept (repeatable; the first one a client offers that is listed here wins)' -r
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l origin-allow -d 'Accept only these Origins (repeatable; \'*\' wildcards); others get 403' -r
complete -c wscope -n "__fish_wscope_using_subcommand listen" -s H -l header -d 'Extra response header, \'Name: value\' (repeatable)' -r
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l tls-cert -d 'Certificate chain for wss, PEM (with --tls-key)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l tls-key -d 'Private key for wss, PEM PKCS#8 (with --tls-cert)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l max-clients -d 'Most clients at once; more are refused with 503' -r
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l max-message-size -d 'Largest message accepted from a client [suffixes: K, M, G]' -r
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l dump-limit -d 'Bytes of each payload shown by --dump before the rest is elided' -r
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l replay -d 'A mock server: answer each client with the server messages of this recording (a --record transcript or a HAR export), each after the client message that preceded it' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l lens -d 'Decode what clients send with a lens: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor, protobuf' -r
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l color -d 'When to use colours (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l record -d 'Record the session to FILE as JSON Lines (the --json events with a first `session` line; mode 0600)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l echo -d 'Echo every message back to the client that sent it'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l require-subprotocol -d 'Refuse clients that offer none of the -s subprotocols (400)'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l http2 -d 'Also serve WebSockets over HTTP/2 (RFC 8441) on the same port: h2c prior knowledge, or ALPN h2 with --tls-cert'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l no-deflate -d 'Decline permessage-deflate (by default a client\'s offer is accepted, within what it allows)'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -s v -l verbose -d 'Show each client\'s handshake'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l dump -d 'Show every frame on the wire'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l no-history -d 'Do not read or write the REPL history file'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l json -d 'One JSON object per event (sent, received, ping, pong, close, error) on stdout'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -s T -l timestamps -d 'Prefix every event with the time'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l pretty -d 'Pretty-print received JSON text'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -s P -l show-ping-pong -d 'Show ping and pong frames in pipe mode (always shown in the REPL)'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l no-color -d 'Same as --color never (wscat\'s spelling)'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -l record-secrets -d 'Keep Authorization, Cookie and Proxy-Authorization values in the --record file (redacted by default)'
complete -c wscope -n "__fish_wscope_using_subcommand listen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l entry -d 'Which WebSocket of the recording to replay, counted from 0 (see --list) [default: 0]' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l speed -d 'Play the recorded gaps between messages X times faster (0.5 is half speed) [default: 1]' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -s H -l header -d 'Extra request header \'Name: value\' (repeatable)' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -s s -l subprotocol -d 'Offer a subprotocol (repeatable; offered in order)' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -s o -l origin -d 'Origin header to send' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l auth -d 'Basic credentials \'user:pass\' (also taken from user:pass@ in the URL)' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l protocol-version -d 'Sec-WebSocket-Version to send, to see how a server answers other versions' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l connect-timeout -d 'Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l max-redirects -d 'Most redirects to follow with --location' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l proxy -d 'Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l ca -d 'Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l cert -d 'Client certificate, PEM (with --key)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l key -d 'Client private key, PEM PKCS#8 \'BEGIN PRIVATE KEY\' (with --cert)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l max-message-size -d 'Largest message or frame accepted from the server; bigger closes with 1009 [at least 125; suffixes: K, M, G]' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l deflate -d 'Offer permessage-deflate with exactly these parameters, e.g. \'server_no_context_takeover; client_max_window_bits=10\' [default: \'client_max_window_bits\']' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l ping-interval -d 'Send a ping every SECS and show its round-trip time [at least 0.1]' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l ping-timeout -d 'Close the connection as dead when no pong arrives within SECS of a ping [at least 0.1]' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l reconnect -d 'Connect again when the connection drops or the server closes with 1001, 1011, 1012 or 1013 (backoff 0.5 s to 30 s), up to MAX attempts in a row [\'inf\': no limit; default: none in the REPL, 5 otherwise]' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l dump-limit -d 'Bytes of each payload shown by --dump before the rest is elided' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l dump-file -d 'Write the frame dump to FILE instead of stderr (implies --dump)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l lens -d 'Decode and speak the protocol inside: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor, protobuf, or none [default: chosen from a /socket.io/ path or a graphql-ws subprotocol]' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l lens-auth -d 'JSON the lens authenticates with: Socket.IO\'s namespace auth, graphql-ws\'s connection_init payload' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l lens-host -d 'STOMP\'s host header (RabbitMQ reads it as the virtual host) [default: the URL\'s host]' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l proto -d 'A .proto file for the protobuf lens (compiled at start-up; implies --lens protobuf) [default: schema-less decoding]' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l message -d 'The message of --proto that each binary message is (pkg.Name) [default: the file\'s only message]' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l mqtt-version -d 'The MQTT lens\'s CONNECT: 3.1.1, or 5 (properties, reason codes)' -r -f -a "3.1.1\t''
5\t''"
complete -c wscope -n "__fish_wscope_using_subcommand replay" -s x -l execute -d 'Send MSG after connecting (repeatable; slash commands allowed)' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -s w -l wait -d 'After the input ends, close SECS later (wscat\'s -w; -1 waits for ever)' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l idle -d 'After the input ends, close after SECS without a message from the server [default: 2, none with -w]' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l script -d 'Run the commands in FILE, one per line as with -x (\'#\' comments and blank lines skipped), after the -x ones' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l expect-timeout -d 'How long /expect, /expect-json and /expect-close wait for a match unless given --timeout' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l count -d 'Exit after N data messages received' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l close-code -d 'Close code we send when we end the connection' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l close-reason -d 'Close reason we send when we end the connection' -r
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l color -d 'When to use colours (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l record -d 'Record the session to FILE as JSON Lines (the --json events with a first `session` line; mode 0600)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l list -d 'List the recording\'s WebSockets (index, URL, messages each way) and exit'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l fast -d 'Send the messages one after the other, without the recorded gaps'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l har-cookies -d 'Also send the Cookie header of a HAR entry (left out by default)'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l require-subprotocol -d 'Fail unless the server selects one of the offered subprotocols'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -s L -l location -d 'Follow 3xx redirects, printing each hop'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l no-proxy -d 'Ignore proxy settings from the environment'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -s k -l insecure -d 'Skip certificate and host name verification (a warning is printed)'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l no-coalesce -d 'Read each message the moment it arrives. By default a fast stream is read in batches, each message waiting at most 2 ms (far less CPU for both ends)'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l no-deflate -d 'Offer no compression (by default wscope offers permessage-deflate as browsers do)'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l http2 -d 'Open the WebSocket over HTTP/2 (RFC 8441): ALPN h2 on wss, h2c prior knowledge on ws; falls back to HTTP/1.1 with a note when the server cannot'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l http2-only -d 'Like --http2, but fail (exit 5) instead of falling back to HTTP/1.1'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -s v -l verbose -d 'Show the handshake in full, its checks and timings'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l dump -d 'Show every frame on the wire, decoded field by field, with a hex dump'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l dump-h2 -d 'With --dump and --http2: also show each HTTP/2 frame header on the connection (type, flags, stream, length)'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l lens-passive -d 'Decode only: the lens sends nothing by itself (no protocol handshake, no answers to its pings)'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l no-repl -d 'With -x on a terminal, exit after the -x messages instead of opening the REPL'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -s 1 -l once -d 'Exit after the first data message received'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l echo -d 'Echo every data message received back to the server (a mirror client)'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l binary -d 'Binary mode: each stdin line is a binary message, and binary replies are written raw'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l stdin-whole -d 'Send all of stdin as one message'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l no-history -d 'Do not read or write the REPL history file'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l json -d 'One JSON object per event (sent, received, ping, pong, close, error) on stdout'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -s T -l timestamps -d 'Prefix every event with the time'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l pretty -d 'Pretty-print received JSON text'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -s P -l show-ping-pong -d 'Show ping and pong frames in pipe mode (always shown in the REPL)'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l no-color -d 'Same as --color never (wscat\'s spelling)'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -l record-secrets -d 'Keep Authorization, Cookie and Proxy-Authorization values in the --record file (redacted by default)'
complete -c wscope -n "__fish_wscope_using_subcommand replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l map-client -d 'A jq filter applied to each JSON text message from the client; its output replaces the message, `empty` drops it' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l map-server -d 'A jq filter applied to each JSON text message from the server; its output replaces the message, `empty` drops it' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l tls-cert -d 'Certificate chain to serve wss to the clients, PEM (with --tls-key)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l tls-key -d 'Private key for wss, PEM PKCS#8 (with --tls-cert)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l max-clients -d 'Most clients at once; more are refused with 503' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l dump-limit -d 'Bytes of each payload shown by --dump before the rest is elided' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l lens -d 'Decode what is relayed with a lens: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -s H -l header -d 'Extra request header \'Name: value\' (repeatable)' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -s s -l subprotocol -d 'Offer a subprotocol (repeatable; offered in order)' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -s o -l origin -d 'Origin header to send' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l auth -d 'Basic credentials \'user:pass\' (also taken from user:pass@ in the URL)' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l protocol-version -d 'Sec-WebSocket-Version to send, to see how a server answers other versions' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l connect-timeout -d 'Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l max-redirects -d 'Most redirects to follow with --location' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l proxy -d 'Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l ca -d 'Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l cert -d 'Client certificate, PEM (with --key)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l key -d 'Client private key, PEM PKCS#8 \'BEGIN PRIVATE KEY\' (with --cert)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l max-message-size -d 'Largest message or frame accepted from the server; bigger closes with 1009 [at least 125; suffixes: K, M, G]' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l deflate -d 'Offer permessage-deflate with exactly these parameters, e.g. \'server_no_context_takeover; client_max_window_bits=10\' [default: \'client_max_window_bits\']' -r
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l color -d 'When to use colours (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l record -d 'Record the session to FILE as JSON Lines (the --json events with a first `session` line; mode 0600)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l fixed-path -d 'Dial URL\'s path as it is, whatever path the client asked for'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l dump -d 'Show every frame on both hops'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l no-history -d 'Do not read or write the REPL history file'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l require-subprotocol -d 'Fail unless the server selects one of the offered subprotocols'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -s L -l location -d 'Follow 3xx redirects, printing each hop'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l no-proxy -d 'Ignore proxy settings from the environment'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -s k -l insecure -d 'Skip certificate and host name verification (a warning is printed)'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l no-coalesce -d 'Read each message the moment it arrives. By default a fast stream is read in batches, each message waiting at most 2 ms (far less CPU for both ends)'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l no-deflate -d 'Offer no compression (by default wscope offers permessage-deflate as browsers do)'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l http2 -d 'Open the WebSocket over HTTP/2 (RFC 8441): ALPN h2 on wss, h2c prior knowledge on ws; falls back to HTTP/1.1 with a note when the server cannot'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l http2-only -d 'Like --http2, but fail (exit 5) instead of falling back to HTTP/1.1'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -s v -l verbose -d 'Show the handshake in full, its checks and timings'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l json -d 'One JSON object per event (sent, received, ping, pong, close, error) on stdout'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -s T -l timestamps -d 'Prefix every event with the time'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l pretty -d 'Pretty-print received JSON text'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -s P -l show-ping-pong -d 'Show ping and pong frames in pipe mode (always shown in the REPL)'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l no-color -d 'Same as --color never (wscat\'s spelling)'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -l record-secrets -d 'Keep Authorization, Cookie and Proxy-Authorization values in the --record file (redacted by default)'
complete -c wscope -n "__fish_wscope_using_subcommand proxy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -s c -l connections -d 'Connections to open' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l ramp -d 'Open connections at this many per second [default: all at once]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -s n -l messages -d 'Messages per connection (then stop) instead of a duration' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -s d -l duration -d 'How long to send [default: 10]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l rate -d 'Messages a second per connection (open loop) [default: closed loop]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l size -d 'Payload size in bytes [default: 64]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -s x -l template -d 'Payload template with ${seq}, ${conn}, ${now_ms}' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l match -d 'Pair replies by this jq key, e.g. .id [default: echo equality]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l reply-timeout -d 'A message without a reply after SECS counts as missing' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l threads -d 'Worker threads [default: the number of cores]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l h2-connections -d 'Multiplex the WebSockets over K HTTP/2 connections (with --http2)' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l hist -d 'Write the round trips to FILE as an HdrHistogram interval log' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l merge -d 'Print the combined report of --hist logs and exit' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand bench" -s H -l header -d 'Extra request header \'Name: value\' (repeatable)' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -s s -l subprotocol -d 'Offer a subprotocol (repeatable; offered in order)' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l protocol-version -d 'Sec-WebSocket-Version to send, to see how a server answers other versions' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l max-redirects -d 'Most redirects to follow with --location' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l proxy -d 'Proxy: http://[user:pass@]host:port (CONNECT) or socks5[h]://... [default: from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l ca -d 'Trust the certificate authorities in this PEM file instead of the system roots (as curl --cacert)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l cert -d 'Client certificate, PEM (with --key)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l key -d 'Client private key, PEM PKCS#8 \'BEGIN PRIVATE KEY\' (with --cert)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l max-message-size -d 'Largest message or frame accepted from the server; bigger closes with 1009 [at least 125; suffixes: K, M, G]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l ping-interval -d 'Send a ping every SECS and show its round-trip time [at least 0.1]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l ping-timeout -d 'Close the connection as dead when no pong arrives within SECS of a ping [at least 0.1]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l reconnect -d 'Connect again when the connection drops or the server closes with 1001, 1011, 1012 or 1013 (backoff 0.5 s to 30 s), up to MAX attempts in a row [\'inf\': no limit; default: none in the REPL, 5 otherwise]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l dump-limit -d 'Bytes of each payload shown by --dump before the rest is elided' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l dump-file -d 'Write the frame dump to FILE instead of stderr (implies --dump)' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l lens -d 'Decode and speak the protocol inside: socketio, graphql-ws, stomp, mqtt, jsonrpc, msgpack, cbor, protobuf, or none [default: chosen from a /socket.io/ path or a graphql-ws subprotocol]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l lens-auth -d 'JSON the lens authenticates with: Socket.IO\'s namespace auth, graphql-ws\'s connection_init payload' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l lens-host -d 'STOMP\'s host header (RabbitMQ reads it as the virtual host) [default: the URL\'s host]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l proto -d 'A .proto file for the protobuf lens (compiled at start-up; implies --lens protobuf) [default: schema-less decoding]' -r -F
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l message -d 'The message of --proto that each binary message is (pkg.Name) [default: the file\'s only message]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l mqtt-version -d 'The MQTT lens\'s CONNECT: 3.1.1, or 5 (properties, reason codes)' -r -f -a "3.1.1\t''
5\t''"
complete -c wscope -n "__fish_wscope_using_subcommand bench" -s o -l origin -d 'Origin header to send' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l auth -d 'Basic credentials \'user:pass\' (also taken from user:pass@ in the URL)' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l connect-timeout -d 'Give up connecting after SECS (DNS, TCP, proxy, TLS and the upgrade together)' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l deflate -d 'Offer permessage-deflate with these parameters, e.g. \'client_max_window_bits\' [default: none; each compressing connection holds ~300 KiB of zlib state]' -r
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l binary -d 'Send binary messages'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l any-reply -d 'Take the next message received as the reply'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l json -d 'Print the report as one JSON object'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l require-subprotocol -d 'Fail unless the server selects one of the offered subprotocols'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l no-proxy -d 'Ignore proxy settings from the environment'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l no-coalesce -d 'Read each message the moment it arrives. By default a fast stream is read in batches, each message waiting at most 2 ms (far less CPU for both ends)'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l http2 -d 'Open the WebSocket over HTTP/2 (RFC 8441): ALPN h2 on wss, h2c prior knowledge on ws; falls back to HTTP/1.1 with a note when the server cannot'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l http2-only -d 'Like --http2, but fail (exit 5) instead of falling back to HTTP/1.1'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l dump -d 'Show every frame on the wire, decoded field by field, with a hex dump'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l dump-h2 -d 'With --dump and --http2: also show each HTTP/2 frame header on the connection (type, flags, stream, length)'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l lens-passive -d 'Decode only: the lens sends nothing by itself (no protocol handshake, no answers to its pings)'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -s k -l insecure -d 'Skip certificate and host name verification (a warning is printed)'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -s v -l verbose -d 'Show the handshake in full, its checks and timings'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -s L -l location -d 'Follow 3xx redirects, printing each hop'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -l no-deflate -d 'Offer no compression (by default wscope offers permessage-deflate as browsers do)'
complete -c wscope -n "__fish_wscope_using_subcommand bench" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c wscope -n "__fish_wscope_using_subcommand completions" -s h -l help -d 'Print help'
complete -c wscope -n "__fish_wscope_using_subcommand help; and not __fish_seen_subcommand_from inspect probe listen replay proxy bench completions help" -f -a "inspect" -d 'Show the opening handshake in full, close cleanly, exit 0 only if every check passed'
complete -c wscope -n "__fish_wscope_using_subcommand help; and not __fish_seen_subcommand_from inspect probe listen replay proxy bench completions help" -f -a "probe" -d 'Check a server: handshake, Origin policy, negotiation, frame rules, limits, TLS'
complete -c wscope -n "__fish_wscope_using_subcommand help; and not __fish_seen_subcommand_from inspect probe listen replay proxy bench completions help" -f -a "listen" -d 'Run a WebSocket server for testing: prints what clients send, --echo echoes it back'
complete -c wscope -n "__fish_wscope_using_subcommand help; and not __fish_seen_subcommand_from inspect probe listen replay proxy bench completions help" -f -a "replay" -d 'Replay a recording (a --record transcript or a browser HAR export) against a server'
complete -c wscope -n "__fish_wscope_using_subcommand help; and not __fish_seen_subcommand_from inspect probe listen replay proxy bench completions help" -f -a "proxy" -d 'An inspecting relay: clients connect here, each is relayed to URL, both sides shown'
complete -c wscope -n "__fish_wscope_using_subcommand help; and not __fish_seen_subcommand_from inspect probe listen replay proxy bench completions help" -f -a "bench" -d 'Load and latency: many connections, messages, round-trip percentiles (HDR histogram)'
complete -c wscope -n "__fish_wscope_using_subcommand help; and not __fish_seen_subcommand_from inspect probe listen replay proxy bench completions help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c wscope -n "__fish_wscope_using_subcommand help; and not __fish_seen_subcommand_from inspect probe listen replay proxy bench completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c wscope -n "__fish_wscope_using_subcommand completions" -f -a "bash elvish fish powershell zsh"
