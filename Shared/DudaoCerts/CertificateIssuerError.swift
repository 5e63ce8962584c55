import Foundation

/// An error from ``CertificateIssuer``; ``message`` names the file or identity at fault.
public struct CertificateIssuerError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The broad category of a ``CertificateIssuerError``.
    public enum Kind: Sendable, Equatable {
        /// The identity name fails ``CertificateNames/isValid(_:)``.
        case invalidName
        /// The identity name is reserved (e.g. `ca`, which would clobber the CA files).
        case reservedName
        /// A validity period of less than one day was requested.
        case invalidValidity
        /// Only one of `ca.pem` / `ca.key` exists.
        case incompleteCA
        /// A file could not be read or parsed.
        case unreadableFile
        /// `ca.key` does not belong to the certificate in `ca.pem`.
        case keyMismatch
        /// A directory or file could not be written.
        case writeFailed
        /// Building or signing a certificate failed.
        case signingFailed
    }

    /// The category of the failure.
    public let kind: Kind
    /// A human-readable explanation naming the file or identity at fault.
    public let message: String

    /// Creates an error of the given kind with a message.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The ``message``.
    public var description: String { message }

    /// The ``message``, for `localizedDescription`.
    public var errorDescription: String? { message }
}
