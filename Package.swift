// swift-tools-version: 6.2
import PackageDescription

/// Settings shared by every Dudao target: Swift 6 mode, strict concurrency, warnings are errors.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "dudao",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "dudao-ingest", targets: ["dudao-ingest"]),
        .executable(name: "dudao", targets: ["dudao"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        // Shared libraries
        .target(name: "DudaoCore", path: "Shared/DudaoCore", swiftSettings: strict),
        .target(
            name: "DudaoWire",
            dependencies: [
                "DudaoCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/DudaoWire", swiftSettings: strict),
        .target(name: "DudaoFeeds", dependencies: ["DudaoCore"], path: "Shared/DudaoFeeds", swiftSettings: strict),
        .target(
            name: "DudaoCerts",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Shared/DudaoCerts", swiftSettings: strict),
        .target(
            name: "DudaoService",
            dependencies: [
                "DudaoCore", "DudaoWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Shared/DudaoService", swiftSettings: strict),
        .target(
            name: "DudaoStorage",
            dependencies: [
                "DudaoCore", "DudaoWire",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/DudaoStorage", swiftSettings: strict),
        .target(
            name: "DudaoConsumer",
            dependencies: [
                "DudaoCore", "DudaoWire", "DudaoFeeds",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/DudaoConsumer", swiftSettings: strict),
        // Executables
        .executableTarget(
            name: "dudao-ingest",
            dependencies: [
                "DudaoCore", "DudaoWire", "DudaoFeeds", "DudaoService", "DudaoStorage",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/dudao-ingest", swiftSettings: strict),
        .executableTarget(
            name: "dudao",
            dependencies: [
                "DudaoCore", "DudaoWire", "DudaoFeeds", "DudaoCerts",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/dudao", swiftSettings: strict),
        // Tests
        .target(
            name: "DudaoTesting",
            dependencies: ["DudaoCore", "DudaoWire", "DudaoCerts",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl")],
            path: "Shared/DudaoTesting", swiftSettings: strict),
        .testTarget(
            name: "DudaoTests",
            dependencies: ["DudaoCore", "DudaoWire", "DudaoFeeds", "DudaoCerts", "DudaoTesting", "dudao-ingest", "dudao",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio")],
            path: "Tests/DudaoTests", swiftSettings: strict),
    ]
)
