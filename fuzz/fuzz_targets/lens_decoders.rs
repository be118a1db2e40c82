//! Every lens's decoder (Socket.IO, graphql-ws, STOMP, JSON-RPC, MessagePack, CBOR) and its
//! commands on arbitrary bytes: none may panic, nest without bound or allocate past the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wscope::lens::decode_all(data);
});
