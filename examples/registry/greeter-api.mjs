// The greeter's gRPC API, shared by the server and the client: one unary method, JSON on the
// wire (a hand-written service definition instead of generated code, to keep the example small).
import { makeGenericClientConstructor } from "@grpc/grpc-js";

const json = (value) => Buffer.from(JSON.stringify(value));
const parse = (bytes) => JSON.parse(bytes.toString());

/** `examples.Greeter/Hello`: `{ name }` → `{ message, instance }`. */
export const greeterService = {
  hello: {
    path: "/examples.Greeter/Hello",
    requestStream: false,
    responseStream: false,
    requestSerialize: json,
    requestDeserialize: parse,
    responseSerialize: json,
    responseDeserialize: parse,
  },
};

/** A grpc-js client class of the greeter. */
export const GreeterClient = makeGenericClientConstructor(greeterService, "Greeter");
