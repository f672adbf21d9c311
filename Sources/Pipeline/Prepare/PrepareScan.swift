import Foundation
import Imaging

/// One image and the annotation file that labels it.
struct AnnotatedImage: Sendable {
    var stem: String
    var source: ImageSource
    var annotationPath: String
    var markers: [Marker]
    var identity: ImageIdentity
    var imagePath: String { source.path }
}

/// prepare's work list: the images under `--images` paired with the annotation files under
/// `--annotations` by `AnnotationPairing` (the pairing segment uses too), wells assembled from their
/// fields. Problems with single files are collected (and reported by the caller, one line each); only
/// a missing or empty folder stops the run.
struct PrepareScan {
    var pairs: [AnnotatedImage] = []
    var problems: [String] = []
    /// Stems of the images no annotation file is for.
    var unannotated: [String] = []

    static func run(images: String, annotations: String, wells: WellConfig = .standard) throws -> PrepareScan {
        // Absolute paths, so patches.h5 names its sources wherever it is read later.
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path).path }
        let imageFiles = try InputFiles.images(images).map(absolute)
        let pairing = AnnotationPairing.pair(images: imageFiles, from: images,
                                             annotationFiles: try InputFiles.annotationFiles(annotations).map(absolute),
                                             assemblingWells: wells)
        var scan = PrepareScan(problems: pairing.problems,
                               unannotated: pairing.unannotated.map(AnnotationPairing.stem).sorted())
        scan.pairs = pairing.pairs.map {
            AnnotatedImage(stem: $0.stem, source: $0.image, annotationPath: $0.annotationPath,
                           markers: $0.annotations.markers,
                           identity: ImageNaming.identity(forStem: $0.stem, naming: wells.naming))
        }
        return scan
    }
}
