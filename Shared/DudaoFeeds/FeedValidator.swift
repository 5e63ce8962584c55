import DudaoCore

/// Strict validation of feed bodies (SPEC section 3).
///
/// Every body field of the type's table row is checked for presence, JSON type and range;
/// members the table does not list are refused; cross-field rules (class sizes, `satisfied <=
/// respondents`, ...) are checked; and the key, `as_of` and the references to registered towns
/// and institutions are worked out. Whether the references resolve is for the ``Registry`` to
/// say, in commit order.
public enum FeedValidator {
    /// Years a feed may report.
    static let years: ClosedRange<Int64> = 2000...2100

    /// Validates `body` as a feed of wire type `type`.
    ///
    /// Unknown `type` → `unknown_type` at path `type`. Field errors → `invalid_field` with a
    /// path such as `body.classes[2].children` and a message naming the field and what is
    /// expected ("body.year must be an integer from 2000 to 2100, got 1999").
    public static func validate(type: String, body: JSONObject) -> Result<ValidatedFeed, WireError> {
        guard let feedType = FeedType(rawValue: type) else {
            let known = FeedType.allCases.map(\.rawValue).joined(separator: ", ")
            return .failure(
                WireError(
                    .unknownType,
                    "\"\(FieldReader.clip(type, to: 64))\" is not a feed type; send one of \(known)",
                    zh: "\"\(FieldReader.clip(type, to: 64))\" 不是数据类型；应为以下之一：\(FeedType.allCases.map(\.rawValue).joined(separator: "、"))",
                    path: "type"))
        }
        return validate(feedType, body: body)
    }

    /// Validates `body` as a feed of `type`.
    public static func validate(_ type: FeedType, body: JSONObject) -> Result<ValidatedFeed, WireError> {
        do throws(WireError) {
            return .success(ValidatedFeed(feed: try decode(type, body), body: body))
        } catch {
            return .failure(error)
        }
    }

    /// The typed value of `body` as a feed of `type`; throws the first field error.
    public static func decode(_ type: FeedType, _ body: JSONObject) throws(WireError) -> Feed {
        switch type {
        case .registryTown: try registryTown(body)
        case .registryInstitution: try registryInstitution(body)
        case .populationCohort: try populationCohort(body)
        case .preschoolCensus: try preschoolCensus(body)
        case .compulsoryCensus: try compulsoryCensus(body)
        case .compulsoryRetention: try compulsoryRetention(body)
        case .specialPopulation: try specialPopulation(body)
        case .financeYear: try financeYear(body)
        case .surveyRecognition: try surveyRecognition(body)
        case .talentYear: try talentYear(body)
        case .projectProgress: try projectProgress(body)
        case .safetyInventory: try safetyInventory(body)
        case .safetyHeartbeat: try safetyHeartbeat(body)
        case .safetyAlarm: try safetyAlarm(body)
        }
    }

    /// Whether UTF-8 text is an identifier as the validator requires one (letters, digits,
    /// `.`, `_`, `-`; 1 to 64 of them), for readers that decode a body straight from its bytes.
    public static func isIdentifier(utf8: UnsafeBufferPointer<UInt8>) -> Bool { FieldReader.isIdentifier(utf8) }

    /// A reader for the top-level body of `type`, refusing members outside `fields`.
    static func bodyReader(_ body: JSONObject, _ type: FeedType, fields: [String]) throws(WireError) -> FieldReader {
        try FieldReader(
            body, path: "body", allowed: fields, subject: Expected(en: type.rawValue, zh: "\(FeedSheet.of(type).titleZh)（\(type.rawValue)）"))
    }
}
