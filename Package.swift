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
        .executable(name: "dudao-safety", targets: ["dudao-safety"]),
        .executable(name: "dudao-indicators", targets: ["dudao-indicators"]),
        .executable(name: "dudao", targets: ["dudao"]),
        .executable(name: "dudao-notify", targets: ["dudao-notify"]),
        .executable(name: "dudao-web", targets: ["dudao-web"]),
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
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // The PostgreSQL backend (deployments that outgrow one host; several ingest instances).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // .xlsx in and out (dudao send, dudao template, report and safety exports).
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/CoreOffice/XMLCoder.git", from: "0.18.2"),
        // Already in the graph through hummingbird (which asks for no traits): JSON adds the file snapshot.
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: ["JSON"]),
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
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/DudaoWire", swiftSettings: strict),
        .target(name: "DudaoFeeds", dependencies: ["DudaoCore"], path: "Shared/DudaoFeeds", swiftSettings: strict),
        .target(name: "DudaoReport", dependencies: ["DudaoCore"], path: "Shared/DudaoReport", swiftSettings: strict),
        // Excel workbooks (.xlsx): written row by row, read sheet by sheet (CLI and tests only).
        .target(
            name: "DudaoSheets",
            dependencies: [
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "XMLCoder", package: "XMLCoder"),
            ],
            path: "Shared/DudaoSheets", swiftSettings: strict),
        .target(
            name: "DudaoEvaluation", dependencies: ["DudaoCore", "DudaoFeeds"], path: "Shared/DudaoEvaluation",
            // The built-in catalog is deploy/catalog/enping-2023-2025.json itself (a symbolic link), compiled in.
            resources: [.embedInCode("Resources/enping-2023-2025.json")], swiftSettings: strict),
        // Synthetic data and benchmark drivers: linked into the CLI (`dudao bench`) and the
        // tests, never into a service.
        .target(
            name: "DudaoBench", dependencies: ["DudaoCore", "DudaoFeeds", "DudaoEvaluation"], path: "Shared/DudaoBench",
            swiftSettings: strict),
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
                "DudaoCore", "DudaoWire", "DudaoObservability", "DudaoStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Shared/DudaoService", swiftSettings: strict),
        .target(
            name: "DudaoStorage",
            dependencies: [
                "DudaoCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/DudaoStorage", swiftSettings: strict),
        .target(
            name: "DudaoObservability",
            dependencies: [
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Shared/DudaoObservability", swiftSettings: strict),
        // The links a service keeps to other services: following the ingest log, sending its outbox.
        .target(
            name: "DudaoLinks",
            dependencies: [
                "DudaoCore", "DudaoWire", "DudaoFeeds", "DudaoStorage",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/DudaoLinks", swiftSettings: strict),
        // Executables
        .executableTarget(
            name: "dudao-ingest",
            dependencies: [
                "DudaoObservability", "DudaoCore", "DudaoWire", "DudaoFeeds", "DudaoService", "DudaoStorage",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/dudao-ingest", swiftSettings: strict),
        .executableTarget(
            name: "dudao-notify",
            dependencies: [
                "DudaoObservability", "DudaoCore", "DudaoWire", "DudaoService", "DudaoStorage",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/dudao-notify", swiftSettings: strict),
        .executableTarget(
            name: "dudao-indicators",
            dependencies: [
                "DudaoObservability", "DudaoCore", "DudaoWire", "DudaoFeeds", "DudaoService", "DudaoStorage", "DudaoLinks", "DudaoEvaluation",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/dudao-indicators", swiftSettings: strict),
        .executableTarget(
            name: "dudao-safety",
            dependencies: [
                "DudaoObservability", "DudaoCore", "DudaoWire", "DudaoFeeds", "DudaoService", "DudaoStorage", "DudaoLinks",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/dudao-safety", swiftSettings: strict),
        .executableTarget(
            name: "dudao",
            dependencies: [
                "DudaoCore", "DudaoWire", "DudaoFeeds", "DudaoCerts", "DudaoReport", "DudaoBench", "DudaoSheets",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/dudao", swiftSettings: strict),
        .executableTarget(
            name: "dudao-web",
            dependencies: [
                "DudaoCore", "DudaoWire", "DudaoService", "DudaoReport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/dudao-web", swiftSettings: strict),
        // Tests
        .target(
            name: "DudaoTesting",
            dependencies: ["DudaoCore", "DudaoWire", "DudaoCerts",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/DudaoTesting", swiftSettings: strict),
        .testTarget(
            name: "DudaoTests",
            dependencies: ["DudaoCore", "DudaoWire", "DudaoFeeds", "DudaoEvaluation", "DudaoLinks", "DudaoCerts", "DudaoService", "DudaoReport", "DudaoTesting", "DudaoBench", "DudaoSheets", "dudao-ingest", "dudao-safety", "dudao-indicators", "dudao", "dudao-notify", "dudao-web",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "PropertyBased", package: "swift-property-based")],
            path: "Tests/DudaoTests", swiftSettings: strict),
    ]
)

// Fuzz targets (libFuzzer), only when DUDAO_FUZZ is set: `deploy/fuzz.sh` builds them into
// .build-fuzz; the normal build and the tests never see them.
if Context.environment["DUDAO_FUZZ"] != nil {
    // AddressSanitizer and libFuzzer's coverage for Dudao's own code only. (`-Xswiftc
    // -sanitize=fuzzer,address` would instrument every dependency too: libFuzzer's per-input
    // bookkeeping over NIOSSL, X509, Crypto... then makes each run ~50x slower.)
    let fuzzCoverage: [SwiftSetting] = [
        .unsafeFlags(["-sanitize=address", "-sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp"])
    ]
    for target in package.targets where ["DudaoCore", "DudaoWire", "DudaoFeeds"].contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + fuzzCoverage
    }
    let fuzzLink: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]
    package.products += [
        .executable(name: "fuzz-frames", targets: ["FuzzFrames"]),
        .executable(name: "fuzz-envelope", targets: ["FuzzEnvelope"]),
        .executable(name: "fuzz-feeds", targets: ["FuzzFeeds"]),
    ]
    package.targets += [
        .target(name: "CLibFuzzer", path: "Tests/Fuzz/CLibFuzzer"),
        .target(
            name: "FuzzSupport", dependencies: ["CLibFuzzer", "DudaoCore", "DudaoFeeds"], path: "Tests/Fuzz/FuzzSupport",
            swiftSettings: strict + fuzzCoverage),
        .target(
            name: "FuzzWireSupport",
            dependencies: ["DudaoCore", "DudaoWire", "FuzzSupport", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/Fuzz/FuzzWireSupport", swiftSettings: strict + fuzzCoverage),
        .executableTarget(
            name: "FuzzFrames",
            dependencies: [
                "DudaoCore", "DudaoWire", "FuzzSupport", "FuzzWireSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Tests/Fuzz/FuzzFrames", swiftSettings: strict + fuzzCoverage, linkerSettings: fuzzLink),
        .executableTarget(
            name: "FuzzEnvelope",
            dependencies: ["FuzzSupport", "FuzzWireSupport", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/Fuzz/FuzzEnvelope", swiftSettings: strict + fuzzCoverage, linkerSettings: fuzzLink),
        .executableTarget(
            name: "FuzzFeeds", dependencies: ["DudaoCore", "DudaoFeeds", "FuzzSupport"], path: "Tests/Fuzz/FuzzFeeds",
            swiftSettings: strict + fuzzCoverage, linkerSettings: fuzzLink),
    ]
}
