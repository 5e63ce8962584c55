import DudaoCore
import Foundation
import Testing

@testable import dudao_web

/// The indicator page's SVG chart model: scale, ticks, one bar a year with its own target.
@Suite struct WebChartTests {
    let history: [JSONValue] = [
        ["year": 2023, "value": 85.38, "target": 80, "status": "met"],
        ["year": 2024, "value": 82.52, "target": 85, "status": "not_met"],
        ["year": 2025, "value": .null, "target": 85, "status": "no_data"],
        ["year": 2026, "value": .null, "target": .null, "status": "no_data"],
    ]

    @Test func ticksAreRoundAndCoverTheHighestValue() {
        let chart = IndicatorView.chart(history: history, title: "班额达标率", unit: "%")
        let ticks = chart["ticks"]?.arrayValue ?? []
        #expect(ticks.map { $0["label"]?.stringValue } == ["0", "20", "40", "60", "80", "100"])
        // 0 sits on the x axis, 100 at the top.
        #expect(ticks.first?["y"] == chart["y0"])
        #expect(ticks.last?["y"] == chart["ytop"])
        #expect(chart["unit"] == "%")
    }

    @Test func eachYearHasItsBarOrSaysNoData() {
        let bars = IndicatorView.chart(history: history, title: "t", unit: "%")["bars"]?.arrayValue ?? []
        #expect(bars.map { $0["year"]?.stringValue } == ["2023", "2024", "2025", "2026"])
        #expect(bars.map { $0["css"]?.stringValue } == ["ok", "bad", "none", "none"])
        #expect(bars[0]["has_value"] == true && bars[0]["label"] == "85.38")
        #expect(bars[2]["has_value"] == nil && bars[2]["label"] == "无数据")
        // The bar of 85.38 out of 100 over a plot of 200 px: 170.8 px high.
        #expect(bars[0]["h"] == "170.8")
    }

    @Test func eachYearDrawsItsOwnTarget() {
        let chart = IndicatorView.chart(history: history, title: "t", unit: "%")
        let bars = chart["bars"]?.arrayValue ?? []
        let y2023 = Double(bars[0]["target"]?["y"]?.stringValue ?? "")
        let y2024 = Double(bars[1]["target"]?["y"]?.stringValue ?? "")
        #expect(y2023 != nil && y2024 != nil && y2023! > y2024!, "80 is drawn lower than 85")
        // No target that year: `false`, so the template does not pick the chart's own `target`.
        #expect(bars[3]["target"] == false)
        #expect(chart["target"]?["label"] == "目标 85")
    }

    @Test func ratiosHaveNoUnitLabel() {
        let chart = IndicatorView.chart(history: [["year": 2025, "value": 14.46, "target": 15, "status": "met"]], title: "t", unit: "ratio")
        #expect(chart["unit"] == "")
        // 15 × 1.1 / 5 = 3.3 → a step of 5: 0, 5, … 25.
        #expect(chart["ticks"]?.arrayValue?.last?["label"] == "25")
    }
}
