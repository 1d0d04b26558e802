import XCTest

/// A test case whose tests share one `TinyModels` folder: made before the class's first test, removed after its
/// last. A failure to make it fails each test with the reason (not a crash of the whole run).
open class TinyModelsTestCase: XCTestCase {
    private static var made: Result<TinyModels, Error>?

    override open class func setUp() {
        super.setUp()
        made = Result { try TinyModels.make() }
    }

    override open class func tearDown() {
        if case .success(let models)? = made { models.remove() }
        made = nil
        super.tearDown()
    }

    override open func setUpWithError() throws {
        try super.setUpWithError()
        _ = try XCTUnwrap(Self.made, "TinyModels were not made").get()
    }

    /// The class's models (set up: `setUpWithError` has checked they exist).
    public var m: TinyModels {
        guard case .success(let models)? = Self.made else { fatalError("TinyModelsTestCase.m used outside a test") }
        return models
    }
}
