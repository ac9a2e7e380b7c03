// swift-tools-version:6.0
// sslm — a certificate manager (plan/apply reconciler), successor of ssl-mgr.
//
// One direction of dependencies (Docs/architecture.md): each target depends only on targets below it,
//   sslm → SSLMCLI → SSLMApply → {SSLMACME, SSLMDNS, SSLMDeploy, SSLMObserve, SSLMPlan} → {SSLMPKI, SSLMConfig}
//   → SSLMCore,
// and imports only what it declares here (make check/test build with --explicit-target-dependency-import-check
// error). SSLMPlan is pure: it depends on SSLMCore and SSLMConfig only. `DependencyDirectionTests` checks the
// declared lists below against that rule.
import PackageDescription

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "sslm",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sslm", targets: ["sslm"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // System libraries.
        .systemLibrary(name: "CLDNS", pkgConfig: "ldns", providers: [.apt(["libldns-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // Shared value types, and the two file primitives every module uses (Files/: BoundedFile for
        // bounded reads, ConfinedDirectory for writes that never follow symlinks); no other I/O.
        .target(
            name: "SSLMCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        // TOML → Config + [Diagnostic].
        .target(
            name: "SSLMConfig",
            dependencies: ["SSLMCore", "TOMLKit"],
            swiftSettings: swiftSettings),
        // Disk (and DNS facts given by the caller) → Observation.
        .target(
            name: "SSLMObserve",
            dependencies: [
                "SSLMCore", "SSLMConfig", "SSLMPKI", .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings),
        // PURE planner.
        .target(
            name: "SSLMPlan",
            dependencies: ["SSLMCore", "SSLMConfig"],
            swiftSettings: swiftSettings),
        // Cryptography: keys, CSRs, local signing, chains, TLSA, DH.
        .target(
            name: "SSLMPKI",
            dependencies: [
                "SSLMCore", "COpenSSL",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "SSLMACME",
            dependencies: [
                "SSLMCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "SSLMDNS",
            dependencies: ["SSLMCore", "SSLMConfig", "CLDNS", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .target(
            name: "SSLMDeploy",
            dependencies: ["SSLMCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .target(
            name: "SSLMApply",
            dependencies: [
                "SSLMCore", "SSLMConfig", "SSLMObserve", "SSLMPlan", "SSLMPKI", "SSLMACME", "SSLMDNS", "SSLMDeploy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "SSLMCLI",
            dependencies: [
                "SSLMCore", "SSLMConfig", "SSLMObserve", "SSLMPlan", "SSLMApply", "SSLMPKI", "SSLMDNS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "sslm",
            dependencies: ["SSLMCLI"],
            swiftSettings: swiftSettings,
            // The static Swift runtime's link arguments export every symbol (43,000 of them): the loader
            // then resolves against them and the runtime's start-up `dladdr` scans them all, about 1.3 ms
            // of every run. Nothing looks sslm's own symbols up by name (Docs/PERFORMANCE.md, "status").
            linkerSettings: [.unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux]))]),

        // Benchmarks: figures printed, never asserted (bench/README.md).
        .executableTarget(
            name: "sslm-bench",
            dependencies: ["SSLMPKI", "SSLMCore", "SSLMConfig", "SSLMObserve", "SSLMPlan", "SSLMTestSupport"],
            path: "bench/sslm-bench",
            swiftSettings: swiftSettings),

        // Tests (swift-testing), and what every test target (and sslm-bench) shares: the one topdir builder
        // (ScratchTopdir) and the one process runner (ScriptRunner, SSLMProcess) (Tests/README.md).
        .target(
            name: "SSLMTestSupport",
            dependencies: ["SSLMCore"],
            path: "Tests/SSLMTestSupport",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SSLMConfigTests",
            dependencies: ["SSLMConfig", "SSLMCore", "SSLMTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SSLMPlanTests",
            dependencies: ["SSLMPlan", "SSLMConfig", "SSLMCore", "SSLMTestSupport"],
            exclude: ["Golden"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SSLMApplyTests",
            dependencies: [
                "SSLMApply", "SSLMPlan", "SSLMObserve", "SSLMPKI", "SSLMConfig", "SSLMCore", "SSLMDeploy",
                "SSLMTestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SSLMPKITests",
            dependencies: ["SSLMPKI", "SSLMCore", "SSLMTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SSLMCLITests",
            dependencies: ["SSLMCLI", "SSLMConfig", "SSLMCore", "SSLMPKI", "SSLMTestSupport"],
            exclude: ["Fixtures", "Golden"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SSLMACMETests",
            dependencies: [
                "SSLMACME", "SSLMCore", "SSLMTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SSLMDNSTests",
            dependencies: [
                "SSLMDNS", "SSLMConfig", "SSLMCore", "SSLMTestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SSLMObserveTests",
            dependencies: [
                "SSLMObserve", "SSLMPKI", "SSLMConfig", "SSLMCore", "SSLMDNS", "SSLMTestSupport",
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: swiftSettings),
    ]
)
