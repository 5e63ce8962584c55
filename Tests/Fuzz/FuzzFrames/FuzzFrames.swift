import DudaoCore
import DudaoWire
import FuzzSupport
import FuzzWireSupport
import NIOCore
import NIOEmbedded

/// libFuzzer target: the real ``FrameDecoder`` in a `ByteToMessageHandler` on an
/// `EmbeddedChannel`, fed the input as a peer's byte stream in reads of varying sizes, then every
/// payload through ``EnvelopeChecks/check(_:)`` (envelope, JSON round trip, feed validation).
///
/// Input: byte 0 chooses the frame limit (low 3 bits, from ``FrameStream/limits``) and how the
/// stream is cut into reads (high 5 bits: 0 = one read, n = reads of 1 to n² bytes, so 1 = byte by
/// byte); the rest is the stream. The decoder's output is compared with an independent reading of the stream
/// (``FrameStream/expected``): the same payloads in order, the same refusal, each delivered as
/// soon as its last byte (or, for a refusal, its length) has arrived, and nothing after a refusal.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    FrameStream(UnsafeBufferPointer(start: data, count: size)).run()
    return 0
}

/// One fuzz input as a frame stream.
struct FrameStream {
    /// Frame limits byte 0 chooses from; the last one is no limit at all.
    static let limits = [1, 4, 16, 100, 1024, 65_536, 1 << 20, Int(UInt32.max)]

    /// What the decoder must pass on, and after how many stream bytes it can.
    enum Expected: Equatable {
        case payload([UInt8], availableAfter: Int)
        case broken(WireErrorCode, availableAfter: Int)

        var availableAfter: Int {
            switch self {
            case .payload(_, let end), .broken(_, let end): end
            }
        }
    }

    let stream: ArraySlice<UInt8>
    let limit: Int
    let maxRead: Int
    let seed: UInt32

    init(_ input: UnsafeBufferPointer<UInt8>) {
        let options = input[0]
        stream = Array(input)[1...]
        limit = Self.limits[Int(options & 7)]
        maxRead = Int(options >> 3) * Int(options >> 3)
        seed = UInt32(options) &* 2_654_435_761
    }

    /// The stream read independently of the decoder: 4-byte big-endian lengths and payloads up to
    /// the first length of 0 or above the limit; a truncated last frame gives nothing.
    var expected: [Expected] {
        var result: [Expected] = []
        var at = stream.startIndex
        while stream.endIndex - at >= 4 {
            let length = stream[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
            let headerEnd = at + 4 - stream.startIndex
            if length == 0 {
                result.append(.broken(.invalidFrame, availableAfter: headerEnd))
                break
            }
            if length > limit {
                result.append(.broken(.frameTooLarge, availableAfter: headerEnd))
                break
            }
            guard stream.endIndex - at - 4 >= length else { break }
            result.append(.payload(Array(stream[(at + 4)..<(at + 4 + length)]), availableAfter: headerEnd + length))
            at += 4 + length
        }
        return result
    }

    func run() {
        let expected = self.expected
        let channel = EmbeddedChannel()
        let collector = Collector()
        do {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: limit)))
            try channel.pipeline.syncOperations.addHandler(collector)
        } catch {
            fuzzFail("could not set up the pipeline: \(error)")
        }
        var sent = 0
        var random = seed
        while sent < stream.count {
            var size = stream.count - sent
            if maxRead > 0 {
                random = random &* 1_103_515_245 &+ 12_345
                size = min(size, 1 + Int(random >> 16) % maxRead)
            }
            let start = stream.startIndex + sent
            do {
                try channel.writeInbound(channel.allocator.buffer(bytes: stream[start..<(start + size)]))
            } catch {
                fuzzFail("the pipeline failed on a read of \(size) bytes after \(sent): \(error)")
            }
            sent += size
            let due = expected.prefix { $0.availableAfter <= sent }.count
            fuzzCheck(
                collector.frames.count == due,
                "after \(sent) of \(stream.count) bytes the decoder passed on \(collector.frames.count) frames, "
                    + "not \(due) (limit \(limit))")
        }
        do {
            let leftOver = try channel.finish()
            guard case .clean = leftOver else { fuzzFail("the channel ended with left-overs: \(leftOver)") }
        } catch {
            fuzzFail("closing the channel failed: \(error)")
        }
        let seen = collector.frames.enumerated().map { index, frame -> Expected in
            let end = index < expected.count ? expected[index].availableAfter : -1
            switch frame {
            case .payload(let buffer): return .payload(Array(buffer.readableBytesView), availableAfter: end)
            case .broken(let error): return .broken(error.code, availableAfter: end)
            }
        }
        fuzzCheck(seen == expected, "the decoder passed on \(describe(seen)), expected \(describe(expected))")
        for case .payload(let payload) in collector.frames {
            EnvelopeChecks.check(payload)
        }
    }

    func describe(_ frames: [Expected]) -> String {
        let items = frames.map { frame -> String in
            switch frame {
            case .payload(let bytes, _): "payload(\(bytes.count) bytes)"
            case .broken(let code, _): "broken(\(code.rawValue))"
            }
        }
        return "[" + items.joined(separator: ", ") + "]"
    }
}

/// The handler after the decoder: keeps what it passes on.
final class Collector: ChannelInboundHandler {
    typealias InboundIn = InboundFrame

    var frames: [InboundFrame] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        frames.append(Self.unwrapInboundIn(data))
    }
}
