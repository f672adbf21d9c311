import Foundation

/// The JSON report of `netosis counts` (format_version 1). Keys are snake_case and written sorted;
/// a statistic that is undefined is `null`, never absent and never NaN.
///
///     {
///       "classes": [ ClassAgreement, … ]        in the order the classes were given
///       "format": "netosis-counts", "format_version": 1,
///       "images": [ { "image": "plate01_B03",   sorted by image name
///                     "manual": { "<class>": count, … }, "predicted": { "<class>": count, … } }, … ],
///       "images_without_manual": [ names ],     predicted but not annotated (not compared)
///       "images_without_prediction": [ names ]  annotated but not predicted (not compared)
///     }
///
/// Each `ClassAgreement`:
///
///     "class": name,                 "n": images compared,
///     "pearson_r", "r_ci95_low", "r_ci95_high" (Fisher z), "p_value" (t test, n − 2 df),
///     "r_undefined_reason": why r is null (fewer than 3 images, constant counts), else null,
///     "mae", "mae_percent" (of "manual_mean"; null when that is 0), "bias" (mean predicted − manual),
///     "sd_differences", "loa_low", "loa_high" (bias ± 1.96 sd), "bias_ci95_low", "bias_ci95_high"
///     (t, n − 1 df; these five null for one image), "manual_mean", "predicted_mean"
public struct CountReport: Codable, Equatable, Sendable {
    public static let format = "netosis-counts"
    public static let formatVersion = 1

    public var classes: [ClassAgreement]
    public var images: [ImageCountRow]
    public var imagesWithoutManual: [String]
    public var imagesWithoutPrediction: [String]

    public init(classes: [ClassAgreement], images: [ImageCountRow], imagesWithoutManual: [String],
                imagesWithoutPrediction: [String]) {
        self.classes = classes; self.images = images
        self.imagesWithoutManual = imagesWithoutManual; self.imagesWithoutPrediction = imagesWithoutPrediction
    }

    /// The agreement of one class, by name.
    public func agreement(of className: String) -> ClassAgreement? {
        classes.first { $0.className == className }
    }

    /// The report as UTF-8 JSON: sorted keys, pretty-printed, ending in a newline.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// Reads a report written by `jsonData()`; refuses another format or a newer version.
    public static func decode(_ data: Data) throws -> CountReport {
        try JSONDecoder().decode(CountReport.self, from: data)
    }

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", classes, images
        case imagesWithoutManual = "images_without_manual", imagesWithoutPrediction = "images_without_prediction"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let format = try c.decode(String.self, forKey: .format)
        let version = try c.decode(Int.self, forKey: .formatVersion)
        guard format == Self.format, version <= Self.formatVersion else {
            throw StatisticsError("not a count report this version can read (format \(format), version \(version); "
                                  + "expected \(Self.format) ≤ \(Self.formatVersion))")
        }
        classes = try c.decode([ClassAgreement].self, forKey: .classes)
        images = try c.decode([ImageCountRow].self, forKey: .images)
        imagesWithoutManual = try c.decode([String].self, forKey: .imagesWithoutManual)
        imagesWithoutPrediction = try c.decode([String].self, forKey: .imagesWithoutPrediction)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.format, forKey: .format)
        try c.encode(Self.formatVersion, forKey: .formatVersion)
        try c.encode(classes, forKey: .classes)
        try c.encode(images, forKey: .images)
        try c.encode(imagesWithoutManual, forKey: .imagesWithoutManual)
        try c.encode(imagesWithoutPrediction, forKey: .imagesWithoutPrediction)
    }
}

/// One image's counts per class name, predicted and manual.
public struct ImageCountRow: Codable, Equatable, Sendable {
    public var image: String
    public var predicted: [String: Int]
    public var manual: [String: Int]

    public init(image: String, predicted: [String: Int], manual: [String: Int]) {
        self.image = image; self.predicted = predicted; self.manual = manual
    }
}
