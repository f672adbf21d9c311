import Cluster
import Foundation
import Storage

/// The dynamic work queue of `screen`: rank 0 hands out one image at a time, so slow wells never
/// stall fast ranks, and works itself on a second thread (a coordinator that only waits wastes a core
/// of a small allocation). Only rank 0's main thread calls MPI (MPI_THREAD_FUNNELED).
///
/// Messages: a worker sends READY (tag 1) with the encoded result of its last image (empty at
/// first); rank 0 answers ASSIGN (tag 2) with the next item's JSON, or STOP (tag 3).
enum WorkQueue {
    static let ready = 1, assign = 2, stop = 3

    /// Rank 0: runs `items` over every rank; `record` sees each result on the main thread as it
    /// arrives (any order); `shouldStop` ends the hand-out early (pre-emption): images in flight finish.
    static func coordinate(_ items: [ScreenItem], world: Communicator?, local: ScreenWorker,
                           record: (ScreenResult) throws -> Void, shouldStop: () -> Bool) throws {
        let size = world?.size ?? 1
        var next = 0
        var stopped = 0
        let mine = LocalShare()
        let localQueue = DispatchQueue(label: "netosis.screen.local-worker")
        func handOut() -> ScreenItem? {
            guard next < items.count, !shouldStop() else { return nil }
            defer { next += 1 }
            return items[next]
        }
        while true {
            var acted = false
            if !mine.isBusy, let item = handOut() {
                mine.begin()
                localQueue.async { mine.finish(local.screen(item)) }
                acted = true
            }
            for result in mine.takeDone() { try record(result); acted = true }
            if let world, size > 1 {
                while let (source, _) = try world.probe(tag: ready) {
                    let message = try world.receive(UInt8.self, from: source, tag: ready)
                    if !message.payload.isEmpty {
                        let result: ScreenResult
                        do { result = try ScreenResult.decode(message.payload) } catch {
                            throw WorkQueueError(rank: source, problem: "sent a malformed result")
                        }
                        try record(result)
                    }
                    if let item = handOut() {
                        try world.send(Array(try JSONEncoder().encode(item)), to: source, tag: assign)
                    } else {
                        try world.send([UInt8](), to: source, tag: stop)
                        stopped += 1
                    }
                    acted = true
                }
            }
            let localIdle = mine.isIdle
            if stopped == size - 1 && localIdle && (next >= items.count || shouldStop()) { return }
            if !acted { usleep(500) }
        }
    }

    /// Ranks > 0: ask, screen, return the result with the next request, until told to stop.
    static func serve(world: Communicator, worker: ScreenWorker) throws {
        var result: [UInt8] = []
        while true {
            try world.send(result, to: 0, tag: ready)
            let message = try world.receive(UInt8.self, from: 0, tag: nil)
            if message.tag == stop { return }
            guard message.tag == assign, let item = try? JSONDecoder().decode(ScreenItem.self, from: Data(message.payload)) else {
                throw WorkQueueError(rank: 0, problem: "sent an unexpected message (tag \(message.tag))")
            }
            result = try worker.screen(item).encoded()
        }
    }
}

/// What rank 0's own worker thread shares with the coordinating main thread.
private final class LocalShare: @unchecked Sendable {
    private let lock = NSLock()
    private var busy = false
    private var done: [ScreenResult] = []

    var isBusy: Bool { lock.withLock { busy } }
    var isIdle: Bool { lock.withLock { !busy && done.isEmpty } }
    func begin() { lock.withLock { busy = true } }
    func finish(_ result: ScreenResult) { lock.withLock { done.append(result); busy = false } }
    func takeDone() -> [ScreenResult] { lock.withLock { defer { done = [] }; return done } }
}

struct WorkQueueError: Error, CustomStringConvertible {
    let rank: Int
    let problem: String
    var description: String { "screen work queue: rank \(rank) \(problem)" }
}
