import DudaoCore
import DudaoFeeds
import DudaoService
import NIOPosix

extension SafetyQueries {
    /// The connections of `dudao-safety`: queries only (feeds go to `dudao-ingest`). They run on
    /// the thread pool, so a scan of a million devices never stalls an event loop; an identity
    /// restricted to some towns asks only about them.
    static func sessions(engine: SafetyEngine, policy: Reloadable<AccessPolicy>, threadPool: NIOThreadPool) -> QuerySessionFactory {
        QuerySessionFactory(
            service: "dudao-safety", types: types, scoped: ["safety.rates", "safety.noncompliant", "safety.devices", "safety.alarms"],
            policy: policy) { request in
            try await threadPool.runIfActive {
                let townOf = { (institution: String) in engine.read { $0.registry.institutions[institution]?.townID } }
                if let error = request.checkTowns(townOf: townOf) { throw error }
                return try answer(type: request.type, body: request.body, engine: engine).get()
            }
        }
    }
}
