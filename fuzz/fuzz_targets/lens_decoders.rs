//! Every lens's decoder (Socket.IO, graphql-ws, STOMP, MQTT, JSON-RPC, MessagePack, CBOR, protobuf
//! raw and with a schema) and its commands on arbitrary bytes: none may panic, nest without bound
//! or allocate past the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wscope::lens::decode_all(data);
});
