import FuzzWireSupport
import NIOCore

/// libFuzzer target: the envelope parser, ``Envelope/parse(_:)-(ByteBuffer)`` as the ingest
/// calls it on a frame's payload, checked against ``JSONParser`` + ``JSONWriter`` (parse →
/// write → parse gives an equal value) and the envelope rules; a feed's body goes on to its
/// validation. Input: one frame payload. See ``EnvelopeChecks/check(_:)``.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEnvelope(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    EnvelopeChecks.check(ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size)))
    return 0
}
