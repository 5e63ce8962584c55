import DudaoCore
import DudaoWire
import NIOCore
import NIOEmbedded
import Testing

@Suite struct FrameDecoderTests {
    func channel(max: Int = 16) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: max)))
        return channel
    }

    func frame(_ payload: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(payload.utf8.count), endianness: .big)
        buffer.writeString(payload)
        return buffer
    }

    @Test func splitsFramesAcrossAndWithinReads() throws {
        let channel = try channel()
        var both = frame("{\"a\":1}")
        both.writeImmutableBuffer(frame("[2]"))
        // Deliver byte by byte: frames must come out whole and in order.
        while let byte = both.readSlice(length: 1) { try channel.writeInbound(byte) }
        guard case .payload(let first) = try channel.readInbound(as: InboundFrame.self) else { Issue.record("no frame"); return }
        #expect(String(buffer: first) == "{\"a\":1}")
        guard case .payload(let second) = try channel.readInbound(as: InboundFrame.self) else { Issue.record("no frame"); return }
        #expect(String(buffer: second) == "[2]")
        #expect(try channel.readInbound(as: InboundFrame.self) == nil)
    }

    @Test func refusesOversizeLengthFromTheHeaderAlone() throws {
        let channel = try channel(max: 16)
        var header = ByteBuffer()
        header.writeInteger(UInt32(0xFFFF_FFF0), endianness: .big)
        try channel.writeInbound(header)
        guard case .broken(let error) = try channel.readInbound(as: InboundFrame.self) else {
            Issue.record("expected a refusal before any body byte")
            return
        }
        #expect(error.code == .frameTooLarge)
        // Whatever follows is discarded, never decoded.
        try channel.writeInbound(frame("{}"))
        #expect(try channel.readInbound(as: InboundFrame.self) == nil)
    }

    @Test func refusesZeroLength() throws {
        let channel = try channel()
        var header = ByteBuffer()
        header.writeInteger(UInt32(0), endianness: .big)
        try channel.writeInbound(header)
        guard case .broken(let error) = try channel.readInbound(as: InboundFrame.self) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(error.code == .invalidFrame)
    }

    @Test func acceptsExactlyTheLimit() throws {
        let channel = try channel(max: 4)
        try channel.writeInbound(frame("1234"))
        guard case .payload = try channel.readInbound(as: InboundFrame.self) else { Issue.record("limit refused"); return }
        try channel.writeInbound(frame("12345"))
        guard case .broken(let error) = try channel.readInbound(as: InboundFrame.self) else { Issue.record("over limit"); return }
        #expect(error.code == .frameTooLarge)
    }
}

extension InboundFrame: Equatable {
    public static func == (lhs: InboundFrame, rhs: InboundFrame) -> Bool {
        switch (lhs, rhs) {
        case (.payload(let a), .payload(let b)): a == b
        case (.broken(let a), .broken(let b)): a == b
        default: false
        }
    }
}
