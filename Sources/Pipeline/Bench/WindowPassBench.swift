import Determinism
import Foundation
import Neural

/// `netosis bench --mode windows`: a window network (the PL counter's stage 1) over every window of a
/// 512×672 field — the sliding-window pass against one forward per window, batched — on one rank.
/// Per-window time is measured on `batch` windows and scaled to the field's window count (a full
/// per-window run of a field takes minutes); both are medians of the iterations.
enum WindowPassBench {
    static let field = (height: 512, width: 672)

    static func run(_ options: BenchOptions, log: @escaping (String) -> Void) throws {
        let config = try ModelConfig.load(options.model)
        guard case let .sequential(sequential) = config else {
            throw NeuralError.badInput("--mode windows needs a sequential window network (e.g. pl-stage1), not \(config.architecture) '\(config.name)'")
        }
        let net = try SequentialNet(config: sequential, seed: 1)
        let pass = try SlidingWindowPass(net)
        let (h, w, s, c) = (field.height, field.width, sequential.inputSize, sequential.inputChannels)
        var generator = SplitMix64(seed: 3)
        let image = (0..<h * w * c).map { _ in generator.nextNormal() }
        let windows = (h - s + 1) * (w - s + 1)
        let batch = min(options.batchSize, windows)
        // The first `batch` windows in reading order, cut once (cutting is not what is timed).
        var cut = [Float](repeating: 0, count: batch * s * s * c)
        for i in 0..<batch {
            let (y, x) = (i / (w - s + 1), i % (w - s + 1))
            for r in 0..<s { for j in 0..<s * c { cut[(i * s + r) * s * c + j] = image[((y + r) * w + x) * c + j] } }
        }
        func median(_ v: [Double]) -> Double { let t = v.sorted(); return t.count % 2 == 1 ? t[t.count / 2] : (t[t.count / 2 - 1] + t[t.count / 2]) / 2 }
        var dense: [Double] = [], perWindow: [Double] = []
        for i in 0..<(options.warmup + options.iterations) {
            let t0 = Date()
            _ = try pass.run(image, height: h, width: w, softmax: true)
            let t1 = Date()
            cut.withUnsafeBufferPointer { _ = net.forward($0.baseAddress!, batch: batch, height: s, width: s, training: false) }
            let t2 = Date()
            if i >= options.warmup { dense.append(t1.timeIntervalSince(t0)); perWindow.append(t2.timeIntervalSince(t1)) }
            log("bench: windows iteration \(i + 1): pass \(String(format: "%.2f", t1.timeIntervalSince(t0))) s, "
                + "\(batch) windows one by one in a batch \(String(format: "%.3f", t2.timeIntervalSince(t1))) s")
        }
        let passSeconds = median(dense), windowSeconds = median(perWindow) / Double(batch)
        let forwardGFLOP = net.forwardFLOPs(height: s, width: s) / 1e9
        log(String(format: "bench: %@ over a %d×%d field (%d windows of %d×%d): sliding-window pass %.2f s (median of %d); "
                   + "per-window forwards %.3f ms/window (batches of %d, %.1f GFLOP/s) → %.0f s for the field; pass %.0f× faster",
                   sequential.name, w, h, windows, s, s, passSeconds, options.iterations, 1e3 * windowSeconds, batch,
                   forwardGFLOP / windowSeconds, windowSeconds * Double(windows), windowSeconds * Double(windows) / passSeconds))
    }
}
