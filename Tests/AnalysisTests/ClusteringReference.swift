import Analysis
import Foundation

/// The reference numbers in Fixtures/clustering-reference.json (made by Fixtures/make_clustering_reference.py).
struct ClusteringReference: Decodable {
    struct Nearest: Decodable {
        let name: String
        let points: [[Double]]
        /// cKDTree distance from each point to its nearest other point.
        let distances: [Double]
    }
    struct Tiled: Decodable {
        struct Tile: Decodable { let row: Int, column: Int, count: Int, annd: Double? }
        let name: String
        let width: Double, height: Double, rows: Int, columns: Int, minimum: Int
        let points: [[Double]]
        let tiles: [Tile]
    }
    struct ClarkEvansCase: Decodable {
        let name: String
        let width: Double, height: Double
        let points: [[Double]]
        let observed: Double, expected: Double, se: Double, ratio: Double, uncorrected_ratio: Double
        let z: Double, p: Double
    }
    struct AnndKS: Decodable {
        let name: String
        /// Tiles of each treatment, each a list of [x, y].
        let first: [[[Double]]], second: [[[Double]]]
        let first_annd: [Double], second_annd: [Double]
        let ks_statistic: Double, ks_p_exact: Double, ks_p_auto: Double
        /// ttest_rel on the first min(n₁, n₂) ANNDs of each, paired in order.
        let paired_t: Double, paired_p: Double
    }
    let scipy: String
    let nearest: [Nearest]
    let tiled: [Tiled]
    let clark_evans: [ClarkEvansCase]
    let annd_ks: [AnndKS]

    static let shared: ClusteringReference = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/clustering-reference.json")
        do {
            return try JSONDecoder().decode(ClusteringReference.self, from: Data(contentsOf: url))
        } catch {
            fatalError("\(url.path): \(error)")
        }
    }()
}

/// [[x, y]] from JSON as points.
func planePoints(_ pairs: [[Double]]) -> [PlanePoint] { pairs.map { PlanePoint(x: $0[0], y: $0[1]) } }
