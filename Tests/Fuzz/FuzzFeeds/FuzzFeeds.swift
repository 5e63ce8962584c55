import DudaoCore
import DudaoFeeds
import FuzzSupport

/// libFuzzer target: every feed type's validation (``FeedValidator/validate(type:body:)``), then
/// ``Registry/check(_:)`` and ``Registry/apply(_:)`` on what validates.
///
/// Input: byte 0 chooses the type (`FeedType.allCases[byte % count]`; the two values past the
/// last type use the body's first member name as the type, so unknown types are fuzzed too),
/// the rest is the body's JSON text. See ``FeedChecks/check(type:body:)`` for what is checked.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFeeds(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let types = FeedType.allCases
    let choice = Int(input[0]) % (types.count + 2)
    guard let body = JSONChecks.parse(input.dropFirst())?.objectValue else { return 0 }
    let type = choice < types.count ? types[choice].rawValue : body.keys.first ?? ""
    FeedChecks.check(type: type, body: body)
    return 0
}
