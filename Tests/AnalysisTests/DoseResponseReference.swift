import Analysis
import Foundation

/// The reference numbers in Fixtures/dose-response-reference.json (made by
/// Fixtures/make_dose_response_reference.py with scipy).
struct DoseResponseReference: Decodable {
    struct Fit: Decodable {
        let name: String, model: String
        let concentrations: [Double], responses: [Double]
        let parameters: [Double], covariance: [[Double]], standard_errors: [Double]
        let ci_low: [Double], ci_high: [Double], t: Double
        let ec50: Double, ec50_ci: [Double], ssr: Double, r2: Double
        let band_x: [Double], band_fit: [Double], band_low: [Double], band_high: [Double]
    }
    struct Comparison: Decodable {
        struct Group: Decodable { let concentrations: [Double], responses: [Double] }
        let name: String, model: String
        let groups: [Group]
        let separate_parameters: [[Double]], ss_separate: Double, df_separate: Int
        let shared_parameters: [Double], ss_shared: Double, df_shared: Int
        let f: Double, p: Double
    }
    let scipy: String
    /// [p, isf(p), sf(isf(p)), ppf(p), cdf(ppf(p))]
    let normal: [[Double]]
    /// [k, p, isf, sf(isf), ppf, cdf(ppf)]
    let chi2: [[Double]]
    /// [d1, d2, p, isf, sf(isf), ppf, cdf(ppf)]
    let f: [[Double]]
    /// [df, p, isf, sf(isf), ppf, cdf(ppf)]
    let t: [[Double]]
    let fits: [Fit]
    let comparisons: [Comparison]

    static let shared: DoseResponseReference = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/dose-response-reference.json")
        do {
            return try JSONDecoder().decode(DoseResponseReference.self, from: Data(contentsOf: url))
        } catch {
            fatalError("\(url.path): \(error)")
        }
    }()
}
