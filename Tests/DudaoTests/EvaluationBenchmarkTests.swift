import DudaoBench
import DudaoEvaluation
import Testing

/// The benchmark runs and reports its three figures (small numbers: no timing is asserted).
@Suite struct EvaluationBenchmarkTests {
    @Test func aSmallRunReportsTheFigures() {
        let report = EvaluationBenchmark.run(institutions: 100, classesPerInstitution: 4)
        #expect(report.contains("100 institutions (80 kindergartens), 400 classes"))
        #expect(report.contains("(a) apply everything + city evaluation:"))
        #expect(report.contains("(b) evaluate one town + the city:"))
        #expect(report.contains("(c) incremental update"))
        #expect(report.contains("37 results"))
    }
}
