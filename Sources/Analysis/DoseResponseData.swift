import Foundation

/// One group's dose-response points: the response (e.g. % NETotic nuclei) of each well at its
/// agonist concentration, replicates as separate points (Prism fits every replicate, not means).
/// Zero concentration is the vehicle control: it has no log10, so it is kept apart from the fit
/// and reported on its own.
public struct DoseResponseData: Equatable, Sendable {
    /// log10(concentration) of every point with concentration > 0, in input order.
    public let logConcentrations: [Double]
    public let responses: [Double]
    /// Responses at concentration 0 (vehicle).
    public let vehicleResponses: [Double]

    /// Throws when the lists differ in length, a concentration is negative or not finite, or a
    /// response is not finite.
    public init(concentrations: [Double], responses: [Double]) throws {
        guard concentrations.count == responses.count else {
            throw StatisticsError("dose-response: \(concentrations.count) concentrations but \(responses.count) responses")
        }
        var x: [Double] = [], y: [Double] = [], vehicle: [Double] = []
        for (c, r) in zip(concentrations, responses) {
            guard c.isFinite, c >= 0 else { throw StatisticsError("dose-response: concentration \(c) is not a number ≥ 0") }
            guard r.isFinite else { throw StatisticsError("dose-response: response \(r) at concentration \(c) is not finite") }
            if c == 0 { vehicle.append(r) } else { x.append(log10(c)); y.append(r) }
        }
        logConcentrations = x
        self.responses = y
        vehicleResponses = vehicle
    }

    /// Points already on the log10 axis (no vehicle).
    public init(logConcentrations: [Double], responses: [Double]) throws {
        guard logConcentrations.count == responses.count else {
            throw StatisticsError("dose-response: \(logConcentrations.count) log concentrations but \(responses.count) responses")
        }
        guard logConcentrations.allSatisfy(\.isFinite), responses.allSatisfy(\.isFinite) else {
            throw StatisticsError("dose-response: a log concentration or response is not finite")
        }
        self.logConcentrations = logConcentrations
        self.responses = responses
        vehicleResponses = []
    }

    /// The tested range of log10 concentrations (nil without points).
    public var logRange: ClosedRange<Double>? {
        guard let low = logConcentrations.min(), let high = logConcentrations.max() else { return nil }
        return low...high
    }

    /// The mean response at each tested concentration, by increasing log concentration.
    public var doseMeans: [(logConcentration: Double, mean: Double)] {
        DoseResponseModel.doseMeans(logConcentrations, responses).map { ($0.x, $0.mean) }
    }

    /// The same points with every response mapped (vehicle included), e.g. by a normalisation.
    public func mapResponses(_ transform: (Double) -> Double) -> DoseResponseData {
        DoseResponseData(logConcentrations: logConcentrations, responses: responses.map(transform),
                         vehicleResponses: vehicleResponses.map(transform))
    }

    private init(logConcentrations: [Double], responses: [Double], vehicleResponses: [Double]) {
        self.logConcentrations = logConcentrations
        self.responses = responses
        self.vehicleResponses = vehicleResponses
    }
}
