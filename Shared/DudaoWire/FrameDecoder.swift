import DudaoCore
import NIOCore

/// One inbound unit from the frame decoder: a frame's payload, or the reason the stream is broken.
public enum InboundFrame: Sendable {
    case payload(ByteBuffer)
    /// The stream broke (`invalid_frame` or `frame_too_large`); nothing after it is read.
    case broken(WireError)
}

/// Splits a byte stream into frames: a 4-byte big-endian length `N`, then `N` bytes.
///
/// Unlike `LengthFieldBasedFrameDecoder` from swift-nio-extras (which has no upper bound), this
/// decoder looks at the length as soon as its 4 bytes arrive and refuses a length of 0 or above
/// `maxFrameBytes` at once, before a byte of the body is buffered. After a refusal it emits one
/// `.broken` and discards everything that follows; the connection handler answers with an
/// `error` frame and closes.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = InboundFrame

    public let maxFrameBytes: Int
    private var broken = false

    public init(maxFrameBytes: Int) {
        self.maxFrameBytes = maxFrameBytes
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if broken {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return .needMoreData
        }
        if length == 0 {
            broken = true
            buffer.moveReaderIndex(to: buffer.writerIndex)
            context.fireChannelRead(
                Self.wrapInboundOut(.broken(WireError(.invalidFrame, "a frame length of 0 is not allowed", zh: "帧长度不能为 0"))))
            return .continue
        }
        if Int(length) > maxFrameBytes {
            broken = true
            buffer.moveReaderIndex(to: buffer.writerIndex)
            context.fireChannelRead(
                Self.wrapInboundOut(
                    .broken(
                        WireError(
                            .frameTooLarge,
                            "the frame announces \(length) bytes; the limit is \(maxFrameBytes) bytes (max_frame_bytes)",
                            zh: "帧声明长度为 \(length) 字节，超过上限 \(maxFrameBytes) 字节（max_frame_bytes）"))))
            return .continue
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let payload = buffer.readSlice(length: Int(length))!
        context.fireChannelRead(Self.wrapInboundOut(.payload(payload)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 && !broken {
            // A truncated frame at EOF: nobody is left to answer, drop it.
            buffer.moveReaderIndex(to: buffer.writerIndex)
        }
        return .needMoreData
    }
}
