// mpi-selftest: exercises every Communicator operation on however many ranks it is started
// with, checks each result against the value it must have, and prints one line per check on
// rank 0. Admins can run it to validate an MPI installation; the test suite runs it at -np 2/3.
//
//   mpi-selftest all                 every check below
//   mpi-selftest allreduce|broadcast|gather|sendrecv|split
//   mpi-selftest fail-on-rank R      rank R throws after a barrier: the job must abort, not hang
import Cluster
import Foundation

struct CheckFailed: Error, CustomStringConvertible {
    let description: String
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw CheckFailed(description: message()) }
}

func report(_ world: Communicator, _ line: String) {
    if world.isRoot { print(line) ; fflush(stdout) }
}

func checkAllReduce(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    // Each rank contributes rank+1+i at index i: sums, maxima and minima are known in closed form.
    var floats = (0..<1000).map { Float(r + 1 + $0) }
    try world.allReduce(&floats, .sum)
    for i in [0, 1, 999] { try expect(floats[i] == Float(n * (n + 1) / 2 + n * i), "float sum[\(i)] = \(floats[i])") }
    var doubles = (0..<64).map { Double(r) * 0.5 + Double($0) }
    try world.allReduce(&doubles, .max)
    try expect(doubles[10] == Double(n - 1) * 0.5 + 10, "double max = \(doubles[10])")
    var int32s = [Int32(r * 10 - 7), Int32(r)]
    try world.allReduce(&int32s, .min)
    try expect(int32s == [-7, 0], "int32 min = \(int32s)")
    var int64s = [Int64(1) << 40 + Int64(r)]
    try world.allReduce(&int64s, .sum)
    try expect(int64s[0] == Int64(n) << 40 + Int64(n * (n - 1) / 2), "int64 sum = \(int64s[0])")
    let total = try world.allReduce(Int64(r + 1), .sum)
    // Non-blocking (the overlapped gradient exchange): three in flight at once over slices of one
    // buffer, progressed by test(), finished by wait(); equal to the blocking sum.
    var pending = (0..<3000).map { Float(r + 1 + $0) }
    let started = try pending.withUnsafeMutableBufferPointer { all in
        try [0..<1000, 1000..<2500, 2500..<3000].map { try world.startAllReduce(UnsafeMutableBufferPointer(rebasing: all[$0]), .sum) }
    }
    for request in started { try request.test() }
    for request in started { try request.wait() }
    try expect(started.allSatisfy(\.isComplete), "a non-blocking all-reduce is not complete after wait")
    for i in [0, 999, 1000, 2999] { try expect(pending[i] == Float(n * (n + 1) / 2 + n * i), "non-blocking sum[\(i)] = \(pending[i])") }
    report(world, "allreduce ok: ranks=\(n) float_sum0=\(Int(floats[0])) int64_sum=\(total) double_max=\(doubles[10]) int32_min=\(int32s[0]) nonblocking_sum2999=\(Int(pending[2999]))")
}

struct Settings: Codable, Equatable {
    var name: String
    var epochs: Int
    var rates: [Double]
}

func checkBroadcast(_ world: Communicator) throws {
    let root = world.size - 1
    var values = world.rank == root ? (0..<4096).map { UInt16($0 % 65536) } : [UInt16](repeating: 0, count: 4096)
    try world.broadcast(&values, root: root)
    try expect(values[4095] == 4095 && values[17] == 17, "uint16 broadcast wrong")
    let settings = Settings(name: "densenet-tiny ✓", epochs: 3, rates: [0.1, 0.01])
    let received = try world.broadcast(world.rank == 0 ? settings : nil, root: 0)
    try expect(received == settings, "codable broadcast gave \(received)")
    let bytes = try world.broadcast(bytes: world.rank == 0 ? Array("hello from 0".utf8) : [], root: 0)
    try expect(String(decoding: bytes, as: UTF8.self) == "hello from 0", "bytes broadcast wrong")
    report(world, "broadcast ok: ranks=\(world.size) root=\(root) codable=\(received.name)")
}

func checkGather(_ world: Communicator) throws {
    // Rank r sends r*3+1 bytes, all equal to r: sizes differ per rank on purpose.
    let mine = [UInt8](repeating: UInt8(world.rank), count: world.rank * 3 + 1)
    let gathered = try world.gather(bytes: mine, root: 0)
    if world.isRoot {
        guard let gathered else { throw CheckFailed(description: "root got nothing") }
        for (r, blob) in gathered.enumerated() {
            try expect(blob.count == r * 3 + 1 && blob.allSatisfy { $0 == UInt8(r) }, "gather blob \(r) wrong")
        }
    } else {
        try expect(gathered == nil, "non-root received a gather result")
    }
    let everyone = try world.allGather(bytes: mine)
    try expect(everyone.map(\.count) == (0..<world.size).map { $0 * 3 + 1 }, "allgather sizes \(everyone.map(\.count))")
    let hosts = try world.allGather("rank-\(world.rank)")
    try expect(hosts == (0..<world.size).map { "rank-\($0)" }, "codable allgather \(hosts)")
    report(world, "gather ok: ranks=\(world.size) sizes=\(everyone.map(\.count))")
}

func checkSendReceive(_ world: Communicator) throws {
    // A work queue in miniature: rank 0 hands out one task per worker, collects the answers.
    guard world.size > 1 else { report(world, "sendrecv ok: ranks=1 (nothing to exchange)"); return }
    if world.isRoot {
        for worker in 1..<world.size { try world.send([Int32(worker * 100)], to: worker, tag: 7) }
        var answers: [Int: Int32] = [:]
        for _ in 1..<world.size {
            let message = try world.receive(Int32.self, from: nil, tag: 8)
            answers[message.source] = message.payload[0]
        }
        for worker in 1..<world.size {
            try expect(answers[worker] == Int32(worker * 100 + 1), "answer from \(worker) = \(String(describing: answers[worker]))")
        }
        report(world, "sendrecv ok: ranks=\(world.size) answers=\(answers.keys.sorted().map { answers[$0]! })")
    } else {
        let task = try world.receive(Int32.self, from: 0, tag: 7)
        try expect(task.tag == 7 && task.source == 0, "task envelope wrong")
        try world.send([task.payload[0] + 1], to: 0, tag: 8)
    }
}

func checkSplit(_ world: Communicator) throws {
    let half = try world.split(color: world.rank % 2, key: world.rank)
    let evens = (world.size + 1) / 2
    try expect(half.size == (world.rank % 2 == 0 ? evens : world.size - evens), "split size \(half.size)")
    let sum = try half.allReduce(Int32(world.rank), .sum)
    let expected = stride(from: world.rank % 2, to: world.size, by: 2).reduce(0, +)
    try expect(Int(sum) == expected, "split sum \(sum) != \(expected)")
    try world.barrier()
    report(world, "split ok: ranks=\(world.size) even_group=\(evens)")
}

let arguments = Array(CommandLine.arguments.dropFirst())
let world: Communicator
do { world = try Communicator.world() } catch {
    FileHandle.standardError.write(Data("mpi-selftest: \(error)\n".utf8)); exit(2)
}
world.runOrAbort {
    switch arguments.first ?? "all" {
    case "allreduce": try checkAllReduce(world)
    case "broadcast": try checkBroadcast(world)
    case "gather": try checkGather(world)
    case "sendrecv": try checkSendReceive(world)
    case "split": try checkSplit(world)
    case "all":
        try checkAllReduce(world); try checkBroadcast(world); try checkGather(world)
        try checkSendReceive(world); try checkSplit(world)
        report(world, "ALL OK ranks=\(world.size)")
    case "fail-on-rank":
        let victim = Int(arguments.dropFirst().first ?? "1") ?? 1
        try world.barrier()
        if world.rank == victim { throw CheckFailed(description: "deliberate failure for the abort test") }
        // The others wait in a collective the failed rank never joins: only an abort ends this.
        var x = [Float(1)]
        try world.allReduce(&x, .sum)
        report(world, "UNEXPECTED: collective completed without rank \(victim)")
    default:
        throw CheckFailed(description: "unknown check '\(arguments[0])'")
    }
}
