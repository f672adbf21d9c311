import Determinism
import Foundation
import Neural

/// Training and inference throughput of a model on random data (`netosis bench`).
public struct BenchmarkResult: Codable, Sendable {
    public var model: String
    public var batch: Int
    public var inputChannels: Int
    public var inputSize: Int
    /// Input width when it differs from the height (nil in files from before: square).
    public var inputWidth: Int?
    public var threads: Int
    public var blasCore: String
    public var trainImagesPerSecond: Double?
    public var trainSecondsPerIteration: [Double]
    public var trainGFLOPS: Double?
    public var trainPeakRSSMB: Double?
    public var inferImagesPerSecond: Double?
    public var inferSecondsPerIteration: [Double]
    public var inferGFLOPS: Double?
    public var inferPeakRSSMB: Double?
    /// Seconds per iteration by layer type (median iteration's share), training and inference.
    public var trainBreakdown: [String: Double]
    public var inferBreakdown: [String: Double]
    public var gflopPerTrainImage: Double
    public var gflopPerInferImage: Double
    public var loadAverage: Double
    /// CPU cores used by other processes during the timed iterations (0 = the machine was ours).
    public var foreignCoresTrain: Double?
    public var foreignCoresInfer: Double?
    /// CPU cores this process used during the timed iterations.
    public var ownCoresTrain: Double?
    public var ownCoresInfer: Double?
    /// Ranks that ran the benchmark together (RSS is then the sum over ranks).
    public var ranks: Int = 1
    /// Single-thread sgemm rate (n = 512, the same OpenBLAS kernels) summed over every thread that
    /// computed, measured on all of them at once in the same run: what the cores could do at best.
    public var sgemmGFLOPS: Double?

    /// GFLOP/s as a share of `sgemmGFLOPS`.
    public var trainShareOfSGEMM: Double? { trainGFLOPS.flatMap { g in sgemmGFLOPS.map { g / $0 } } }
    public var inferShareOfSGEMM: Double? { inferGFLOPS.flatMap { g in sgemmGFLOPS.map { g / $0 } } }
    /// e.g. "1 rank × 2 threads".
    public var layout: String { "\(ranks) rank\(ranks == 1 ? "" : "s") × \(threads) thread\(threads == 1 ? "" : "s")" }
}

public enum Benchmark {
    /// Peak resident set size of this process so far (VmHWM), in MB.
    public static func peakRSSMegabytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kb = Double(fields[1]) { return kb / 1024 }
        }
        return 0
    }

    public static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first, let value = Double(first) else { return -1 }
        return value
    }

    /// (busy jiffies of the whole machine, this process's CPU seconds, wall clock)
    static func cpuSample() -> (busy: Double, own: Double, wall: Double) {
        var busy = 0.0
        if let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
           let line = text.split(separator: "\n").first {
            let v = line.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
            if v.count == 8 { busy = v.reduce(0, +) - v[3] - v[4] }
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let own = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return (busy, own, Double(DispatchTime.now().uptimeNanoseconds) / 1e9)
    }

    /// (cores used by other processes, cores used by this one) since `start`.
    static func cores(since start: (busy: Double, own: Double, wall: Double)) -> (foreign: Double, own: Double) {
        let end = cpuSample()
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let wall = end.wall - start.wall
        guard wall > 0 else { return (0, 0) }
        let own = (end.own - start.own) / wall
        return (max(0, (end.busy - start.busy) / hz / wall - own), own)
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Runs inference then training (so the training peak RSS includes the inference one).
    public static func run(config: ModelConfig, batch: Int, iterations: Int = 8, warmup: Int = 2,
                           train: Bool = true, infer: Bool = true,
                           gradientHook: (([Parameter]) throws -> Void)? = nil, model: (any Model)? = nil,
                           team: ThreadTeam = .shared, log: ((String) -> Void)? = nil) throws -> BenchmarkResult {
        let model = try model ?? config.makeModel(seed: 0)
        let (height, width, c) = (config.inputSize, config.inputWidth, config.inputChannels)
        var g = SplitMix64(seed: 1, skipping: 1)
        let images = (0..<batch * height * width * c).map { _ in g.nextNormal() }
        let labels = (0..<batch).map { $0 % config.numClasses }
        let forwardFLOPs = model.forwardFLOPs(height: height, width: width)
        let trainFLOPs = model.trainingFLOPs(height: height, width: width)
        var result = BenchmarkResult(model: config.name, batch: batch, inputChannels: c, inputSize: height, inputWidth: width,
                                     threads: team.size, blasCore: BLAS.coreName,
                                     trainSecondsPerIteration: [], inferSecondsPerIteration: [],
                                     trainBreakdown: [:], inferBreakdown: [:],
                                     gflopPerTrainImage: trainFLOPs / 1e9, gflopPerInferImage: forwardFLOPs / 1e9,
                                     loadAverage: loadAverage())

        result.sgemmGFLOPS = teamSGEMM(team)
        var usage = (foreign: 0.0, own: 0.0)
        func measure(_ body: () throws -> Void) rethrows -> ([Double], [String: Double]) {
            Profiler.enabled = false
            for _ in 0..<warmup { try body() }
            var times: [Double] = []
            var breakdowns: [[(Profiler.Category, Double)]] = []
            Profiler.enabled = true
            defer { Profiler.enabled = false }
            let sample = cpuSample()
            defer { usage = cores(since: sample) }
            for _ in 0..<iterations {
                Profiler.reset()
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                breakdowns.append(Profiler.snapshot())
            }
            // Breakdown of the median iteration; "other" is whatever no category timed.
            let order = times.indices.sorted { times[$0] < times[$1] }
            let mid = order[order.count / 2]
            var breakdown: [String: Double] = [:]
            var accounted = 0.0
            for (category, seconds) in breakdowns[mid] where seconds > 0 {
                breakdown[category.rawValue] = seconds; accounted += seconds
            }
            breakdown[Profiler.Category.other.rawValue] = max(0, times[mid] - accounted)
            return (times, breakdown)
        }

        if infer {
            // The batch is shared out over the thread team's replicas, as over ranks.
            let replicas = try ModelReplicas(model, team: team)
            let t = min(replicas.count, batch)
            log?("inference: \(warmup) warm-up + \(iterations) timed iterations of batch \(batch)"
                 + (t > 1 ? " on \(t) threads (one model replica each)" : ""))
            let (times, breakdown) = measure {
                images.withUnsafeBufferPointer { x in
                    replicas.run { model, member in
                        guard member < t else { return }
                        let first = batch * member / t, n = batch * (member + 1) / t - first
                        _ = model.forward(x.baseAddress! + first * height * width * c, batch: n, height: height, width: width, training: false)
                    }
                }
            }
            result.inferSecondsPerIteration = times
            result.inferImagesPerSecond = Double(batch) / median(times)
            result.inferGFLOPS = result.inferImagesPerSecond! * forwardFLOPs / 1e9
            result.inferBreakdown = breakdown
            result.inferPeakRSSMB = peakRSSMegabytes()
            result.foreignCoresInfer = usage.foreign; result.ownCoresInfer = usage.own
        }
        if train {
            // As `train` runs: the batch split over the team's replicas, BatchNorm over the whole batch.
            let t = TrainJob.replicaCount(perRank: batch, team: team.size)
            let trainer = try ReplicatedTraining(model, team: team, count: t)
            log?("training: \(warmup) warm-up + \(iterations) timed SGD steps of batch \(batch)"
                 + (t > 1 ? " on \(t) threads (one model replica each)" : ""))
            let optimizer = SGD.paper()
            let loss = SoftmaxCrossEntropy()
            let (times, breakdown) = try measure {
                try images.withUnsafeBufferPointer { x in
                    _ = try trainer.step(optimizer: optimizer, beforeUpdate: gradientHook) { replica, member in
                        let first = batch * member / t, n = batch * (member + 1) / t - first
                        return try replica.gradients(images: x.baseAddress! + first * height * width * c, labels: Array(labels[first..<first + n]),
                                                     height: height, width: width, loss: loss, step: optimizer.step, checkFinite: false)
                    }
                }
            }
            result.trainSecondsPerIteration = times
            result.trainImagesPerSecond = Double(batch) / median(times)
            result.trainGFLOPS = result.trainImagesPerSecond! * trainFLOPs / 1e9
            result.trainBreakdown = breakdown
            result.trainPeakRSSMB = peakRSSMegabytes()
            result.foreignCoresTrain = usage.foreign; result.ownCoresTrain = usage.own
        }
        return result
    }

    /// Median single-thread 512³ sgemm GFLOP/s of every member of the team, measured at once (so
    /// the cores are as busy as in a step), summed.
    static func teamSGEMM(_ team: ThreadTeam) -> Double {
        var rates = [Double](repeating: 0, count: team.size)
        rates.withUnsafeMutableBufferPointer { r in team.run { r[$0] = BLAS.measureGFLOPS(n: 512, repetitions: 5).gflops } }
        return rates.reduce(0, +)
    }

    /// Human-readable report.
    public static func text(_ r: BenchmarkResult) -> String {
        var lines = ["model \(r.model), batch \(r.batch), \(r.inputChannels)×\(r.inputSize)×\(r.inputWidth ?? r.inputSize), \(r.layout), "
                     + "OpenBLAS core \(r.blasCore), load average \(r.loadAverage)"
                     + (r.sgemmGFLOPS.map { String(format: "; single-thread sgemm summed over the %d thread(s): %.1f GFLOP/s", r.ranks * r.threads, $0) } ?? "")]
        func section(_ name: String, _ ips: Double?, _ gflops: Double?, _ rss: Double?, _ times: [Double],
                     _ breakdown: [String: Double], _ foreign: Double?) {
            guard let ips, let gflops else { return }
            let share = r.sgemmGFLOPS.map { String(format: " (%.0f%% of sgemm)", 100 * gflops / $0) } ?? ""
            lines.append(name + String(format: ": %.1f images/s (median of %d), %.1f GFLOP/s", ips, times.count, gflops) + share
                         + String(format: ", peak RSS %.0f MB", rss ?? 0)
                         + (r.ranks > 1 ? " (sum over ranks)" : "")
                         + String(format: ", other processes used %.2f cores", foreign ?? 0))
            let total = breakdown.values.reduce(0, +)
            for (key, seconds) in breakdown.sorted(by: { $0.value > $1.value }) where seconds > 0 {
                let label = key.padding(toLength: 20, withPad: " ", startingAt: 0)
                lines.append("    " + label + String(format: " %8.1f ms  %5.1f%%", seconds * 1000, 100 * seconds / max(total, 1e-12)))
            }
        }
        section("inference", r.inferImagesPerSecond, r.inferGFLOPS, r.inferPeakRSSMB, r.inferSecondsPerIteration, r.inferBreakdown, r.foreignCoresInfer)
        section("training", r.trainImagesPerSecond, r.trainGFLOPS, r.trainPeakRSSMB, r.trainSecondsPerIteration, r.trainBreakdown, r.foreignCoresTrain)
        return lines.joined(separator: "\n")
    }
}
