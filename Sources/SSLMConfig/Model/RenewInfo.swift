/// When to renew a certificate, as a function of its original lifetime (ssl-mgr 7.x `[renew_info]`).
///
/// Two piece-wise linear functions of the lifetime L in days: `target(L)` = days before expiry at
/// which to renew, `randomHalfWidth(L)` = half-width of the spread around it. Below the first point the
/// first value applies, between points values are interpolated, beyond the last point the value is
/// proportional to L (lastY / lastX · L). ssl-mgr returned −1 for 0 < L < 1; sslm interpolates.
public struct RenewInfo: Sendable, Hashable {
    /// A point of one of the two functions.
    public struct Point: Sendable, Hashable {
        public var lifetimeDays: Double
        public var days: Double
        public init(_ lifetimeDays: Double, _ days: Double) {
            self.lifetimeDays = lifetimeDays
            self.days = days
        }
    }

    public private(set) var targetPoints: [Point]
    public private(set) var randomPoints: [Point]

    public static let builtinTargets: [Point] = [
        .init(0, 0.25), .init(1, 0.5), .init(2, 1), .init(5, 2), .init(10, 5), .init(45, 10), .init(60, 20),
        .init(90, 30), .init(120, 45), .init(300, 60),
    ]
    public static let builtinRandom: [Point] = builtinTargets.map {
        .init($0.lifetimeDays, $0.lifetimeDays == 120 ? 5 : 0)
    }

    public static let builtin = RenewInfo(targetPoints: builtinTargets, randomPoints: builtinRandom)

    public init(targetPoints: [Point], randomPoints: [Point]) {
        self.targetPoints = targetPoints.sorted { $0.lifetimeDays < $1.lifetimeDays }
        self.randomPoints = randomPoints.sorted { $0.lifetimeDays < $1.lifetimeDays }
    }

    /// Adds a configured `target_<X>` point; an existing point within ±0.1 days of X is replaced.
    public mutating func setTarget(lifetimeDays: Double, days: Double) {
        Self.insert(&targetPoints, Point(lifetimeDays, days))
    }

    /// Adds a configured `rand_adj_<X>` point; an existing point within ±0.1 days of X is replaced.
    public mutating func setRandom(lifetimeDays: Double, days: Double) {
        Self.insert(&randomPoints, Point(lifetimeDays, days))
    }

    private static func insert(_ points: inout [Point], _ point: Point) {
        points.removeAll { abs($0.lifetimeDays - point.lifetimeDays) <= 0.1 }
        points.append(point)
        points.sort { $0.lifetimeDays < $1.lifetimeDays }
    }

    /// Days before expiry at which a certificate of this lifetime is due.
    public func targetDays(lifetimeDays: Double) -> Double { Self.evaluate(targetPoints, lifetimeDays) }

    /// Half-width of the renewal spread for this lifetime.
    public func randomHalfWidthDays(lifetimeDays: Double) -> Double { Self.evaluate(randomPoints, lifetimeDays) }

    static func evaluate(_ points: [Point], _ x: Double) -> Double {
        guard let first = points.first, let last = points.last else { return 0 }
        if x <= first.lifetimeDays { return first.days }
        if x >= last.lifetimeDays {
            return last.lifetimeDays > 0 ? last.days / last.lifetimeDays * x : last.days
        }
        for index in 1..<points.count where x <= points[index].lifetimeDays {
            let a = points[index - 1]
            let b = points[index]
            let span = b.lifetimeDays - a.lifetimeDays
            if span <= 0 { return b.days }
            return a.days + (b.days - a.days) * (x - a.lifetimeDays) / span
        }
        return last.days
    }
}
