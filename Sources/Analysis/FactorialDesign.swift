/// The fixed-effect design of a two-factor experiment (dose × genotype) with sum-to-zero
/// ("effect", R's `contr.sum`) coding: an intercept, k_a − 1 columns for factor A, k_b − 1 for
/// B and their products for A × B. With this coding the type III test of a term is L·β = 0 for
/// L selecting its columns (R: `options(contrasts = c("contr.sum", "contr.poly"))`, then
/// lmerTest's `anova(model, type = 3)`).
public struct FactorialDesign: Sendable {
    public let levelsA: [String]
    public let levelsB: [String]
    public let matrix: Matrix
    /// Columns of each term: "A", "B", "A:B".
    public let terms: [(name: String, columns: Range<Int>)]

    /// `a` and `b` are each observation's levels; levels are kept in first-seen order.
    public init(a: [String], b: [String]) throws {
        guard a.count == b.count, !a.isEmpty else { throw StatisticsError("design: \(a.count) and \(b.count) factor values") }
        var la: [String] = [], lb: [String] = []
        for v in a where !la.contains(v) { la.append(v) }
        for v in b where !lb.contains(v) { lb.append(v) }
        guard la.count >= 2, lb.count >= 2 else {
            throw StatisticsError("design: each factor needs two levels (got \(la.count) and \(lb.count))")
        }
        levelsA = la; levelsB = lb
        let ka = la.count - 1, kb = lb.count - 1
        let columns = 1 + ka + kb + ka * kb
        var x = Matrix(rows: a.count, columns: columns)
        func code(_ index: Int, _ k: Int) -> [Double] {
            index < k ? (0..<k).map { $0 == index ? 1 : 0 } : Array(repeating: -1, count: k)
        }
        for row in 0..<a.count {
            let ca = code(la.firstIndex(of: a[row])!, ka), cb = code(lb.firstIndex(of: b[row])!, kb)
            x[row, 0] = 1
            for i in 0..<ka { x[row, 1 + i] = ca[i] }
            for j in 0..<kb { x[row, 1 + ka + j] = cb[j] }
            for i in 0..<ka { for j in 0..<kb { x[row, 1 + ka + kb + i * kb + j] = ca[i] * cb[j] } }
        }
        matrix = x
        terms = [("A", 1..<1 + ka), ("B", 1 + ka..<1 + ka + kb), ("A:B", 1 + ka + kb..<columns)]
    }

    /// L selecting a term's coefficients.
    public func contrasts(_ term: Int) -> Matrix {
        let range = terms[term].columns
        var l = Matrix(rows: range.count, columns: matrix.columns)
        for (i, c) in range.enumerated() { l[i, c] = 1 }
        return l
    }
}
