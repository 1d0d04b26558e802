import Evaluation

/// `GET /openapi.json`: an OpenAPI 3.0 description of every route `InferenceServer.router()` registers, with each
/// status a route can answer (ServerTests checks it against the router's route list, and schemathesis fuzzes the
/// live server with it).
enum OpenAPIDocument {
    static func document(version: String) -> [String: Any] {
        let name: [String: Any] = ["name": "name", "in": "path", "required": true, "description": "Model name (its folder in the repository).",
                                   "schema": ["type": "string", "pattern": "^[A-Za-z0-9_.-]+$"]]
        let timeoutHeader: [String: Any] = [
            "name": "Request-Timeout-Ms", "in": "header", "required": false,
            "description": "Deadline in milliseconds from arrival (0: none); past it the answer is 504 and a queued request is not computed.",
            "schema": ["type": "number", "minimum": 0, "maximum": 86_400_000]]
        func errors(_ codes: [Int]) -> [String: Any] {
            let text = [400: "Bad input (the message names the field or file)", 401: "Missing or wrong bearer token (--api-key-file)",
                        404: "Unknown model or route", 413: "Body over --max-body", 415: "Unsupported content type",
                        503: "Model not ready, its queue full, or the server shutting down (Retry-After)", 504: "The request's deadline passed"]
            var out: [String: Any] = [:]
            for code in codes { out["\(code)"] = ["description": text[code]!, "content": ["application/json": ["schema": ref("Error")]]] }
            return out
        }
        func ok(_ schema: [String: Any], _ description: String = "OK") -> [String: Any] {
            ["description": description, "content": ["application/json": ["schema": schema]]]
        }
        func merge(_ a: [String: Any], _ b: [String: Any]) -> [String: Any] { a.merging(b) { x, _ in x } }
        let guarded = [401]

        let paths: [String: Any] = [
            "/": ["get": ["summary": "The operator's page (self-contained HTML)", "operationId": "operatorPage", "security": [] as [Any],
                          "responses": ["200": ["description": "HTML page", "content": ["text/html": ["schema": ["type": "string"]]]]]]],
            "/openapi.json": ["get": ["summary": "This document", "operationId": "openapi", "security": [] as [Any],
                                      "responses": ["200": ok(["type": "object"])]]],
            "/v2": ["get": ["summary": "Server metadata (KServe v2)", "operationId": "serverMetadata",
                            "responses": merge(["200": ok(ref("ServerMetadata"))], errors(guarded))]],
            "/v2/health/live": ["get": ["summary": "Liveness", "operationId": "live", "security": [] as [Any],
                                        "responses": ["200": ok(["type": "object"])]]],
            "/v2/health/ready": ["get": ["summary": "Readiness: 200 while at least one model is ready; 503 once the server drains (SIGTERM)", "operationId": "ready", "security": [] as [Any],
                                         "responses": ["200": ok(ref("Ready")), "503": ok(ref("Ready"), "No model ready, or shutting down")]]],
            "/v2/models/{name}": ["get": ["summary": "Model metadata: inputs and outputs with datatype and shape", "operationId": "modelMetadata",
                                          "parameters": [name], "responses": merge(["200": ok(ref("ModelMetadata"))], errors(guarded + [404, 503]))]],
            "/v2/models/{name}/ready": ["get": ["summary": "Model readiness (503 with the reason when its entry is broken)", "operationId": "modelReady",
                                                "parameters": [name],
                                                "responses": merge(["200": ok(ref("ModelReady")), "503": ok(ref("ModelReady"), "Not ready, or the server shutting down")],
                                                                   errors(guarded + [404]))]],
            "/v2/models/{name}/infer": ["post": [
                "summary": "KServe v2 inference: input 'image', BYTES [N] (encoded files) or FP32 [B, 3, S, S] (preprocessed); JSON or the binary-data extension",
                "operationId": "infer", "parameters": [name, timeoutHeader] as [Any],
                "requestBody": ["required": true, "content": ["application/json": ["schema": ref("InferRequest")]]],
                "responses": merge(["200": ["description": "Outputs (JSON, or JSON header + binary tensors with the binary-data extension)",
                                            "content": ["application/json": ["schema": ref("InferResponse")],
                                                        "application/octet-stream": ["schema": ["type": "string", "format": "binary"]]]]],
                                   errors(guarded + [400, 404, 413, 415, 503, 504]))]],
            "/v1/models": ["get": ["summary": "Every model with its state and thresholds", "operationId": "listModels",
                                   "responses": merge(["200": ok(ref("ModelList"))], errors(guarded))]],
            "/v1/models/{name}/inspect": ["post": [
                "summary": "Score one image (the body: a PNG or JPEG file, or a multipart/form-data form with the file as part 'image')",
                "operationId": "inspect",
                "parameters": [name, timeoutHeader,
                               ["name": "map", "in": "query", "required": false, "description": "png: add the heat-map overlay and colour bar as base64 PNG",
                                "schema": ["type": "string", "enum": ["png"]]],
                               ["name": "color_scale", "in": "query", "required": false, "description": "Map colour range (with map=png)",
                                "schema": ["type": "string", "enum": ColorScale.servable.map(\.rawValue), "default": "fixed"]]] as [Any],
                "requestBody": ["required": true, "content": ["image/png": ["schema": ["type": "string", "format": "binary"]],
                                                              "image/jpeg": ["schema": ["type": "string", "format": "binary"]],
                                                              "multipart/form-data": ["schema": [
                                                                  "type": "object", "required": ["image"],
                                                                  "properties": ["image": ["type": "string", "format": "binary",
                                                                                           "description": "The PNG or JPEG file"]]]]]],
                "responses": merge(["200": ok(ref("InspectResult"))], errors(guarded + [400, 404, 413, 415, 503, 504]))]],
            "/metrics": ["get": ["summary": "Prometheus metrics (text exposition format)", "operationId": "metrics",
                                 "responses": merge(["200": ["description": "Metrics", "content": ["text/plain": ["schema": ["type": "string"]]]]],
                                                    errors(guarded))]],
        ]

        let tensorOut: [String: Any] = ["type": "object", "required": ["name", "datatype", "shape"], "properties": [
            "name": ["type": "string"], "datatype": ["type": "string", "enum": ["FP32", "INT32"]],
            "shape": ["type": "array", "items": ["type": "integer"]],
            "data": ["type": "array", "items": ["type": "number"]],
            "parameters": ["type": "object", "properties": ["binary_data_size": ["type": "integer"]]]]]
        let tensorMeta: [String: Any] = ["type": "object", "required": ["name", "datatype", "shape"], "properties": [
            "name": ["type": "string"], "datatype": ["type": "string"], "shape": ["type": "array", "items": ["type": "integer"]]]]
        let thresholds: [String: Any] = ["type": "object", "nullable": true, "required": ["image", "pixel"],
                                         "properties": ["image": ["type": "number"], "pixel": ["type": "number"]]]
        let schemas: [String: Any] = [
            "Error": ["type": "object", "required": ["error"], "properties": ["error": ["type": "string"]]],
            "ServerMetadata": ["type": "object", "required": ["name", "version", "extensions"], "properties": [
                "name": ["type": "string"], "version": ["type": "string"], "extensions": ["type": "array", "items": ["type": "string"]]]],
            "Ready": ["type": "object", "required": ["ready"], "properties": ["ready": ["type": "boolean"], "reason": ["type": "string"]]],
            "ModelReady": ["type": "object", "required": ["name", "ready"], "properties": [
                "name": ["type": "string"], "ready": ["type": "boolean"], "error": ["type": "string"], "reason": ["type": "string"]]],
            "ModelMetadata": ["type": "object", "required": ["name", "versions", "platform", "inputs", "outputs"], "properties": [
                "name": ["type": "string"], "versions": ["type": "array", "items": ["type": "string"]], "platform": ["type": "string"],
                "parameters": ["type": "object"],
                "inputs": ["type": "array", "items": tensorMeta], "outputs": ["type": "array", "items": tensorMeta]]],
            "InferRequest": ["type": "object", "required": ["inputs"], "properties": [
                "id": ["type": "string"],
                "parameters": ["type": "object", "properties": [
                    "binary_data_output": ["type": "boolean"],
                    "timeout": ["type": "integer", "minimum": 0, "maximum": 86_400_000_000,
                                "description": "Deadline in microseconds (tritonclient's infer(timeout=)); 0: none"]]],
                "inputs": ["type": "array", "minItems": 1, "items": ["type": "object", "required": ["name", "datatype", "shape"], "properties": [
                    "name": ["type": "string", "enum": ["image"]], "datatype": ["type": "string", "enum": ["BYTES", "FP32"]],
                    "shape": ["type": "array", "minItems": 1, "items": ["type": "integer", "minimum": 0]],
                    "data": ["type": "array", "description": "BYTES: base64 of each encoded PNG/JPEG file; FP32: the preprocessed pixels [B, 3, S, S], row-major",
                             "items": [:] as [String: Any]],
                    "parameters": ["type": "object", "properties": ["binary_data_size": ["type": "integer", "minimum": 0]]]]]],
                "outputs": ["type": "array", "items": ["type": "object", "required": ["name"], "properties": [
                    "name": ["type": "string", "enum": ["score", "label", "anomaly_map"]],
                    "parameters": ["type": "object", "properties": ["binary_data": ["type": "boolean"]]]]]]]],
            "InferResponse": ["type": "object", "required": ["model_name", "model_version", "outputs"], "properties": [
                "model_name": ["type": "string"], "model_version": ["type": "string"], "id": ["type": "string"],
                "outputs": ["type": "array", "items": tensorOut]]],
            "ModelList": ["type": "object", "required": ["models"], "properties": ["models": ["type": "array", "items": [
                "type": "object", "required": ["name", "ready"], "properties": [
                    "name": ["type": "string"], "ready": ["type": "boolean"], "method": ["type": "string"], "image_size": ["type": "integer"],
                    "map_size": ["type": "integer"], "thresholds": thresholds, "error": ["type": "string"]]]]]],
            "InspectResult": ["type": "object", "required": ["model", "score", "label", "thresholds", "map_size", "timings", "clipad_version"],
                              "properties": [
                "model": ["type": "string"], "score": ["type": "number"], "label": ["type": "integer", "nullable": true, "enum": [0, 1]],
                "thresholds": thresholds, "map_size": ["type": "integer"], "clipad_version": ["type": "string"],
                "timings": ["type": "object", "properties": ["preprocess_seconds": ["type": "number"], "compute_seconds": ["type": "number"],
                                                             "wait_seconds": ["type": "number"]]],
                "map_png": ["type": "string", "format": "byte"], "colorbar_png": ["type": "string", "format": "byte"],
                "map_range": ["type": "array", "minItems": 2, "maxItems": 2, "items": ["type": "number"]],
                "color_scale": ["type": "string", "enum": ColorScale.servable.map(\.rawValue)]]],
        ]
        return ["openapi": "3.0.3",
                "info": ["title": "ClipAD inspection service (clipad serve)", "version": version,
                         "description": "KServe v2 / Open Inference Protocol, a plain inspect endpoint, metrics and the operator's page."],
                "paths": paths,
                "components": ["schemas": schemas,
                               "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer",
                                                              "description": "Required on every route but health, / and /openapi.json when --api-key-file is given"]]],
                "security": [["bearer": [] as [Any]], [:] as [String: Any]]]
    }

    static func ref(_ name: String) -> [String: Any] { ["$ref": "#/components/schemas/\(name)"] }
}
