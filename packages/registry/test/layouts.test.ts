import { describe, expect, it } from "vitest";
import { useTarget } from "../../client/test/support/target.js";
import { keysUnder, until } from "../../lock/test/support/env.js";
import { dubboDecode, dubboEncode } from "../src/dubbo-url.js";
import { dubboLayout, goEndpointsLayout, RegistryError, registry } from "../src/index.js";
import { record } from "./support/record.js";

const env = useTarget({ proxy: true });

describe("go naming/endpoints layout", () => {
  it("discovers endpoints written in Go's exact format (endpoints.Manager.AddEndpoint with a lease)", async () => {
    const lease = await env.client.lease.grant(30n);
    const put = (key: string, value: string) => env.client.put(key, value, { lease: lease.id });
    // What `em.AddEndpoint(ctx, "greeter/10.0.0.5:50051", endpoints.Endpoint{Addr: "10.0.0.5:50051"},
    // clientv3.WithLease(id))` stores: json.Marshal(internal.Update{Op: Add, Addr, Metadata: nil}).
    await put("greeter/10.0.0.5:50051", '{"Op":0,"Addr":"10.0.0.5:50051","Metadata":null}');
    // A Go program's own Metadata object is read where it maps to our fields.
    await put(
      "greeter/10.0.0.6:50051",
      '{"Op":0,"Addr":"10.0.0.6:50051","Metadata":{"region":"eu","version":"2.1","weight":3}}',
    );
    // Metadata as a string: a JSON object in it is read, anything else is ignored.
    await put(
      "greeter/10.0.0.7:50051",
      String.raw`{"Op":0,"Addr":"10.0.0.7:50051","Metadata":"{\"zone\":\"eu-2\",\"team\":\"x\"}"}`,
    );
    await put("greeter/10.0.0.8:50051", '{"Op":0,"Addr":"10.0.0.8:50051","Metadata":"v1"}');
    // Another target that only shares a prefix with "greeter" is not part of the service.
    await env.client.put("greeter-admin/10.0.0.9:1", '{"Op":0,"Addr":"10.0.0.9:1","Metadata":null}');
    await using discovery = registry(env.client, { layout: "go-endpoints" }).discover("greeter");
    const log = record(discovery);
    await discovery.ready;
    expect(discovery.instances()).toMatchObject([
      {
        id: "10.0.0.5:50051",
        address: "10.0.0.5:50051",
        weight: 1,
        status: "up",
        metadata: {},
        registeredAt: "",
      },
      {
        id: "10.0.0.6:50051",
        address: "10.0.0.6:50051",
        weight: 3,
        version: "2.1",
        metadata: { region: "eu" },
      },
      { id: "10.0.0.7:50051", address: "10.0.0.7:50051", zone: "eu-2", metadata: { team: "x" } },
      { id: "10.0.0.8:50051", address: "10.0.0.8:50051", zone: undefined, metadata: {} },
    ]);
    // Go deletes an endpoint by deleting its key (em.DeleteEndpoint); a lease revoke does the same.
    await env.client.delete("greeter/10.0.0.5:50051");
    await env.client.lease.revoke(lease.id);
    await until(() => log.length === 8, 5_000, "removals");
    expect(log.slice(4)).toEqual([
      "removed:10.0.0.5:50051",
      "removed:10.0.0.6:50051",
      "removed:10.0.0.7:50051",
      "removed:10.0.0.8:50051",
    ]);
    await env.client.delete("greeter-admin/10.0.0.9:1");
  });

  it("writes what Go's endpoints.Manager writes: key <target>/<addr>, Go's JSON byte for byte", async () => {
    const reg = registry(env.client, { layout: goEndpointsLayout({ prefix: "svc" }) });
    await using registration = await reg.register({
      service: "greeter",
      instance: { address: "10.0.0.7:50051", metadata: { owner: "a&b <team>" } },
    });
    expect(registration.key).toBe("svc/greeter/10.0.0.7:50051");
    const kv = await env.client.get("svc/greeter/10.0.0.7:50051");
    expect(kv?.lease).toBe(registration.leaseId);
    const at = registration.instance.registeredAt;
    // Go's field names and order, sorted map keys and HTML-safe escapes, as json.Marshal writes;
    // Metadata is a string (a Go map there panics grpc-go's balancer: unhashable map key).
    expect(kv?.text()).toBe(
      String.raw`{"Op":0,"Addr":"10.0.0.7:50051","Metadata":"{\"metadata\":{\"owner\":\"a\\u0026b \\u003cteam\\u003e\"},\"registeredAt\":\"${at}\",\"status\":\"up\",\"weight\":1}"}`,
    );
    // And it reads back as the same instance.
    await using discovery = reg.discover("greeter");
    await discovery.ready;
    expect(discovery.instances()).toEqual([registration.instance]);
    await registration.update({ status: "draining", zone: "eu-1", ports: { grpc: 50051 } });
    expect((await env.client.get(registration.key))?.text()).toBe(
      String.raw`{"Op":0,"Addr":"10.0.0.7:50051","Metadata":"{\"metadata\":{\"owner\":\"a\\u0026b \\u003cteam\\u003e\"},\"ports\":{\"grpc\":50051},\"registeredAt\":\"${at}\",\"status\":\"draining\",\"weight\":1,\"zone\":\"eu-1\"}"}`,
    );
    await until(() => discovery.instances()[0]?.status === "draining", 5_000, "the update");
  });
});

const DEMO = "org.apache.dubbo.demo.DemoService";
const PROVIDERS = `/dubbo/${DEMO}/providers/`;

describe("dubbo etcd3 layout", () => {
  it("discovers providers registered by Java Dubbo and dubbo-go, ignoring other categories", async () => {
    const lease = await env.client.lease.grant(30n);
    // Java EtcdRegistry: key = toCategoryPath + "/" + URL.encode(url.toFullString()), value = the lease id.
    const javaKey = `${PROVIDERS}dubbo%3A%2F%2F192.168.1.10%3A20880%2Forg.apache.dubbo.demo.DemoService%3Fanyhost%3Dtrue%26application%3Ddemo-provider%26dubbo%3D2.0.2%26interface%3Dorg.apache.dubbo.demo.DemoService%26methods%3DsayHello%2CsayHelloAsync%26pid%3D4242%26release%3D2.7.8%26side%3Dprovider%26timestamp%3D1606460000000`;
    await env.client.put(javaKey, String(lease.id), { lease: lease.id });
    // dubbo-go: url.QueryEscape of the URL, value "" (RegisterTemp), and the persistent parent
    // paths it creates with CreatePath.
    await env.client.put(`/dubbo/${DEMO}/providers`, "");
    const goKey = `${PROVIDERS}tri%3A%2F%2F10.0.0.9%3A20000%2Forg.apache.dubbo.demo.DemoService%3Fanyhost%3Dtrue%26interface%3Dorg.apache.dubbo.demo.DemoService%26methods%3DSayHello%26side%3Dprovider%26weight%3D50%26zone%3Deu-1`;
    await env.client.put(goKey, "", { lease: lease.id });
    await env.client.put(
      `/dubbo/${DEMO}/consumers/consumer%3A%2F%2F10.0.0.3%2Forg.apache.dubbo.demo.DemoService%3Fside%3Dconsumer`,
      "",
    );
    await using discovery = registry(env.client, { layout: "dubbo" }).discover(DEMO);
    const errors: unknown[] = [];
    discovery.on("error", (err) => errors.push(err));
    await discovery.ready;
    expect(discovery.instances()).toEqual([
      {
        service: DEMO,
        id: "10.0.0.9:20000",
        address: "10.0.0.9:20000",
        ports: { tri: 20000 },
        metadata: { anyhost: "true", methods: "SayHello" },
        weight: 50,
        zone: "eu-1",
        version: undefined,
        status: "up",
        registeredAt: "",
      },
      {
        service: DEMO,
        id: "192.168.1.10:20880",
        address: "192.168.1.10:20880",
        ports: { dubbo: 20880 },
        metadata: {
          anyhost: "true",
          application: "demo-provider",
          dubbo: "2.0.2",
          methods: "sayHello,sayHelloAsync",
          pid: "4242",
          release: "2.7.8",
        },
        weight: 100,
        zone: undefined,
        version: undefined,
        status: "up",
        registeredAt: new Date(1606460000000).toISOString(),
      },
    ]);
    expect(errors).toEqual([]);
    const log = record(discovery);
    await env.client.lease.revoke(lease.id);
    await until(() => log.length === 2, 5_000, "removals");
    await env.client.delete("/dubbo/", { prefix: true });
  });

  it("registers a provider URL a Dubbo consumer reads, and moves it in one txn on update()", async () => {
    const reg = registry(env.client, { layout: "dubbo" });
    await using registration = await reg.register({
      service: DEMO,
      instance: {
        address: "10.0.0.7:20880",
        ports: { tri: 20880 },
        metadata: { application: "node-provider", methods: "sayHello,sayBye" },
        weight: 5,
        zone: "eu-1",
      },
    });
    const t = Date.parse(registration.instance.registeredAt);
    const expected = `${PROVIDERS}tri%3A%2F%2F10.0.0.7%3A20880%2Forg.apache.dubbo.demo.DemoService%3Fapplication%3Dnode-provider%26interface%3Dorg.apache.dubbo.demo.DemoService%26methods%3DsayHello%2CsayBye%26side%3Dprovider%26timestamp%3D${t}%26weight%3D5%26zone%3Deu-1`;
    expect(registration.key).toBe(expected);
    expect(registration.instance.id).toBe("10.0.0.7:20880");
    const listed = await env.client.range(PROVIDERS, { prefix: true });
    expect(listed.kvs.map((kv) => [kv.keyText(), kv.text(), kv.lease])).toEqual([
      [expected, "", registration.leaseId],
    ]);

    await using discovery = reg.discover(DEMO);
    await discovery.ready;
    expect(discovery.instances()).toEqual([registration.instance]);
    const log = record(discovery);
    const revision = (await env.client.range("x")).revision;
    await registration.update({ status: "draining" });
    // A changed provider URL is a new key; the old one is deleted in the same revision.
    const moved = await env.client.range(PROVIDERS, { prefix: true });
    expect(moved.kvs.map((kv) => dubboDecode(kv.keyText().slice(PROVIDERS.length)))).toEqual([
      `tri://10.0.0.7:20880/${DEMO}?application=node-provider&enabled=false&interface=${DEMO}&keyway.status=draining&methods=sayHello,sayBye&side=provider&timestamp=${t}&weight=5&zone=eu-1`,
    ]);
    const history = await env.client.watch(PROVIDERS, { prefix: true, startRevision: revision + 1n });
    const events = [];
    for await (const event of history) {
      events.push(event);
      if (events.length === 2) break;
    }
    expect(events.map((e) => [e.type, e.kv.modRevision])).toEqual([
      ["delete", moved.revision],
      ["put", moved.revision],
    ]);
    await until(() => discovery.instances()[0]?.status === "draining", 5_000, "the moved provider");
    expect(log).toEqual(["removed:10.0.0.7:20880", "added:10.0.0.7:20880"]);
    // The registration now guards the new key: a delete is put back.
    await env.client.delete(registration.key);
    await until(async () => (await env.client.get(registration.key)) !== undefined, 5_000, "re-put");
    expect(await keysUnder(env.client, PROVIDERS)).toBe(1);
  });

  it("writes the moved key later when the update's own write failed", async () => {
    const reg = registry(env.proxied, { layout: "dubbo" });
    await using registration = await reg.register({ service: "Moves", instance: { address: "h:7" } });
    const oldKey = registration.key;
    env.proxy.setDown(true);
    try {
      await expect(registration.update({ weight: 9 })).rejects.toBeDefined();
      // The old URL's key is deleted while the registration cannot see it.
      await env.client.delete(oldKey);
    } finally {
      env.proxy.setDown(false);
    }
    expect(registration.key).not.toBe(oldKey);
    await until(async () => (await env.client.get(registration.key)) !== undefined, 10_000, "the new key");
    const listed = await env.client.range("/dubbo/Moves/providers/", { prefix: true });
    expect(listed.kvs.map((kv) => kv.keyText())).toEqual([registration.key]);
    expect(dubboDecode(registration.key)).toContain("weight=9");
  });

  it("encodes as java.net.URLEncoder and decodes Java's and Go's escapes", () => {
    expect(dubboEncode("a b*~é/:?=&,")).toBe("a+b*%7E%C3%A9%2F%3A%3F%3D%26%2C");
    expect(dubboDecode("a+b*~%7e%C3%A9")).toBe("a b*~~é");
    expect(() => dubboDecode("%zz")).toThrow();
    expect(() => dubboDecode("%C3")).toThrow();
  });
});

describe("layout input", () => {
  it("refuses what a layout cannot store, before anything is written", async () => {
    const dubbo = registry(env.client, { layout: "dubbo" });
    const cases: [ReturnType<typeof registry>, unknown][] = [
      [dubbo, { service: "S", instance: { address: "no-port" } }],
      [dubbo, { service: "S", instance: { address: "http://h:1/x" } }],
      [dubbo, { service: "S", instance: { id: "other", address: "h:1" } }],
      [dubbo, { service: "S", instance: { address: "h:1", ports: { a: 1, b: 2 } } }],
      [dubbo, { service: "S", instance: { address: "h:1", ports: { tri: 2 } } }],
      [dubbo, { service: "S", instance: { address: "h:1", metadata: { weight: "9" } } }],
      [dubbo, { service: "S", instance: { address: "h:1", metadata: { "a=b": "x" } } }],
      [dubbo, { service: "S", instance: { address: "h:1", metadata: { a: "x&y" } } }],
      [dubbo, { service: "S", instance: { address: "h:1", metadata: { a: "" } } }],
      [registry(env.client, { layout: "go-endpoints" }), { service: "a/b", instance: { address: "h:1" } }],
    ];
    for (const [reg, options] of cases) {
      const error = await reg.register(options as never).catch((err: unknown) => err);
      expect(RegistryError.is(error, "badRequest"), JSON.stringify(options)).toBe(true);
    }
    expect(() => registry(env.client, { layout: "zookeeper" as never })).toThrow(RegistryError);
    expect(() => registry(env.client, { layout: { name: "x" } as never })).toThrow(RegistryError);
    expect(() => goEndpointsLayout({ prefix: "a/" })).toThrow(RegistryError);
    expect(() => dubboLayout({ root: "/dubbo" })).toThrow(RegistryError);
    // Discovery options are checked before it lists anything.
    for (const bad of [
      null,
      { clock: 5 },
      { random: "x" },
      { picker: "fastest" },
      { zoneAffinity: { zone: "" } },
      { protect: { threshold: 2 } },
      { downPolicy: { failures: 0 } },
      { filter: { where: 1 } },
      { layout: "etcdv2" },
    ])
      expect(() => dubbo.discover("S", bad as never), JSON.stringify(bad)).toThrow(RegistryError);
    // An update the layout cannot store is refused and changes nothing.
    await using ok = await dubbo.register({ service: "S", instance: { address: "h:1" } });
    await expect(ok.update({ metadata: { zone: "x" } })).rejects.toMatchObject({ reason: "badRequest" });
    expect(ok.instance.metadata).toEqual({});
    expect(await keysUnder(env.client, "/dubbo/S/")).toBe(1);
  });
});
