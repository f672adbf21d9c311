import Foundation

/// The classic two-way repeated-measures ANOVA of a split-plot design: subjects (donors) nested in
/// a between-subject factor (genotype), every subject measured at every level of a within-subject
/// factor (dose), the same number of times. Replicates of a cell are averaged first (as Prism does). Sums of
/// squares are R's `aov(y ~ within * between + Error(subject / within))` on the cell means
/// (sequential; the strata are orthogonal because every subject has every level, so only the within
/// main effect depends on group sizes — weighted here, unweighted in a type III test). No sphericity
/// correction. It needs complete data: with a missing cell the mixed model (`RandomInterceptModel`)
/// is the analysis, and this throws; so it does when cells hold different numbers of replicates.
public struct SplitPlotANOVA: Sendable {
    public struct Row: Sendable, Equatable {
        public var term: String
        public var sumOfSquares: Double
        public var degreesOfFreedom: Int
        public var meanSquare: Double
        /// F against the term's error stratum, and its upper-tail p (nil for the error rows).
        public var f: Double?
        public var pValue: Double?
    }

    /// between, subjects within between (error), within, within × between, within × subjects (error).
    public var rows: [Row]

    /// - Parameters: one value per observation: its response, subject, between-subject level, within-subject level.
    public static func fit(y: [Double], subject: [String], between: [String], within: [String],
                           names: (between: String, within: String) = ("between", "within")) throws -> SplitPlotANOVA {
        let n = y.count
        guard n > 0, subject.count == n, between.count == n, within.count == n else { throw StatisticsError("the columns differ in length") }
        guard y.allSatisfy(\.isFinite) else { throw StatisticsError("a response is not a finite number") }
        func order(_ v: [String]) -> [String] { var seen = Set<String>(); return v.filter { seen.insert($0).inserted } }
        let subjects = order(subject), levels = order(within), groups = order(between)
        let s = subjects.count, d = levels.count, a = groups.count
        var groupOf: [String: String] = [:]
        for i in 0..<n {
            if let g = groupOf[subject[i]], g != between[i] { throw StatisticsError("subject \(subject[i]) is in two groups (\(g), \(between[i]))") }
            groupOf[subject[i]] = between[i]
        }
        let si = Dictionary(uniqueKeysWithValues: subjects.enumerated().map { ($1, $0) })
        let li = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, $0) })
        var sum = [Double](repeating: 0, count: s * d), count = [Int](repeating: 0, count: s * d)
        for i in 0..<n { let c = si[subject[i]]! * d + li[within[i]]!; sum[c] += y[i]; count[c] += 1 }
        if let empty = count.firstIndex(of: 0) {
            throw StatisticsError("incomplete: \(subjects[empty / d]) has no value at \(levels[empty % d]) (the mixed model handles missing points)")
        }
        if let low = count.min(), let high = count.max(), low != high {
            let j = count.firstIndex(of: low)!
            throw StatisticsError("unbalanced: cells hold \(low) to \(high) values (\(subjects[j / d]) at \(levels[j % d]): \(low)); the mixed model handles that")
        }
        guard a >= 2, d >= 2 else { throw StatisticsError("needs ≥ 2 groups and ≥ 2 levels (got \(a) and \(d))") }
        let perGroup = groups.map { g in subjects.indices.filter { groupOf[subjects[$0]] == g } }
        guard perGroup.allSatisfy({ !$0.isEmpty }), s > a else { throw StatisticsError("needs more subjects than groups") }
        let m = (0..<(s * d)).map { sum[$0] / Double(count[$0]) }

        let grand = m.reduce(0, +) / Double(s * d)
        let subjectMean = (0..<s).map { j in (0..<d).reduce(0) { $0 + m[j * d + $1] } / Double(d) }
        let levelMean = (0..<d).map { k in (0..<s).reduce(0) { $0 + m[$1 * d + k] } / Double(s) }
        let groupMean = perGroup.map { js in js.reduce(0) { $0 + subjectMean[$1] } / Double(js.count) }
        let cellMean = perGroup.map { js in (0..<d).map { k in js.reduce(0) { $0 + m[$1 * d + k] } / Double(js.count) } }
        var groupIndex = [Int](repeating: 0, count: s)
        for (g, js) in perGroup.enumerated() { for j in js { groupIndex[j] = g } }

        var ssA = 0.0, ssS = 0.0, ssD = 0.0, ssAD = 0.0, ssE = 0.0
        for (g, js) in perGroup.enumerated() {
            ssA += Double(d * js.count) * pow(groupMean[g] - grand, 2)
            for k in 0..<d { ssAD += Double(js.count) * pow(cellMean[g][k] - groupMean[g] - levelMean[k] + grand, 2) }
        }
        for j in 0..<s {
            let g = groupIndex[j]
            ssS += Double(d) * pow(subjectMean[j] - groupMean[g], 2)
            for k in 0..<d { ssE += pow(m[j * d + k] - cellMean[g][k] - subjectMean[j] + groupMean[g], 2) }
        }
        for k in 0..<d { ssD += Double(s) * pow(levelMean[k] - grand, 2) }

        let dfA = a - 1, dfS = s - a, dfD = d - 1, dfAD = (a - 1) * (d - 1), dfE = (d - 1) * (s - a)
        let msS = ssS / Double(dfS), msE = ssE / Double(dfE)
        func row(_ term: String, _ ss: Double, _ df: Int, error: (ms: Double, df: Int)?) throws -> Row {
            let ms = ss / Double(df)
            guard let error else { return Row(term: term, sumOfSquares: ss, degreesOfFreedom: df, meanSquare: ms, f: nil, pValue: nil) }
            guard error.ms > 0 else { throw StatisticsError("no residual variation: F is undefined") }
            let f = ms / error.ms
            return Row(term: term, sumOfSquares: ss, degreesOfFreedom: df, meanSquare: ms, f: f,
                       pValue: FDistribution(numerator: Double(df), denominator: Double(error.df))!.sf(f))
        }
        return SplitPlotANOVA(rows: [
            try row(names.between, ssA, dfA, error: (msS, dfS)),
            try row("donors within \(names.between) (error)", ssS, dfS, error: nil),
            try row(names.within, ssD, dfD, error: (msE, dfE)),
            try row("\(names.within) × \(names.between)", ssAD, dfAD, error: (msE, dfE)),
            try row("\(names.within) × donors (error)", ssE, dfE, error: nil),
        ])
    }
}
