using DistributedCron.Registry.ZooKeeper.Client;
using Xunit;

namespace DistributedCron.Registry.ZooKeeper.Tests.Client;

/// <summary>The client's bytes against the captures of ../shared/reference/zookeeper-protocol.md §12 (verified on 3.8.0).</summary>
public sealed class JuteEncodingTests
{
    [Fact]
    public void ConnectRequest_is_45_bytes_with_the_readOnly_flag()
    {
        var frame = ZkCodec.ConnectRequest(0, 5000, 0, new byte[16]).ToFrame();
        Assert.Equal(
            "0000002d" + "00000000" + "0000000000000000" + "00001388" + "0000000000000000" + "00000010" + new string('0', 32) + "00",
            Hex(frame));
    }

    [Fact]
    public void ConnectResponse_decodes_timeout_session_and_password()
    {
        var body = Bytes("00000000" + "00001388" + "01000048d9c90005" + "00000010" + "3c56b23bc68702e74d0e04f78131c149" + "00");
        var (timeout, session, password) = ZkCodec.ConnectResponse(new JuteReader(body));
        Assert.Equal(5000, timeout);
        Assert.Equal(0x1000048d9c90005L, session);
        Assert.Equal("3c56b23bc68702e74d0e04f78131c149", Convert.ToHexStringLower(password));
    }

    [Fact]
    public void ConnectResponse_of_an_expired_session_has_timeout_zero()
    {
        var body = Bytes("00000000" + "00000000" + "0000000000000000" + "00000010" + new string('0', 32) + "00");
        var (timeout, session, _) = ZkCodec.ConnectResponse(new JuteReader(body));
        Assert.Equal(0, timeout);
        Assert.Equal(0, session);
    }

    [Fact]
    public void Create_request_matches_the_capture()
    {
        var frame = ZkCodec.Request(1, ZkOp.Create, ZkCodec.Create("/demo", "hi"u8.ToArray(), ZkAcl.OpenUnsafe, ZkCreateMode.Persistent)).ToFrame();
        Assert.Equal(
            "00000036" + "00000001" + "00000001" + "00000005" + "2f64656d6f" + "00000002" + "6869" + "00000001"
            + "0000001f" + "00000005" + "776f726c64" + "00000006" + "616e796f6e65" + "00000000",
            Hex(frame));
    }

    [Theory]
    [InlineData(0, "00000000")] // persistent
    [InlineData(1, "00000001")] // ephemeral
    [InlineData(2, "00000002")] // persistent sequential
    [InlineData(3, "00000003")] // ephemeral sequential
    public void Create_flags_are_the_mode(int mode, string flags)
    {
        var frame = Hex(ZkCodec.Request(1, ZkOp.Create, ZkCodec.Create("/a", null, ZkAcl.OpenUnsafe, (ZkCreateMode)mode)).ToFrame());
        Assert.EndsWith(flags, frame, StringComparison.Ordinal);
        Assert.Contains("00000002" + "2f61" + "ffffffff", frame, StringComparison.Ordinal); // path "/a", null data
    }

    [Fact]
    public void GetData_ping_and_closeSession_match_the_capture()
    {
        Assert.Equal("00000012" + "00000003" + "00000004" + "00000005" + "2f6e6f7065" + "00",
            Hex(ZkCodec.Request(3, ZkOp.GetData, ZkCodec.PathWatch("/nope", false)).ToFrame()));
        Assert.Equal("00000008" + "fffffffe" + "0000000b", Hex(ZkCodec.Request(ZkXid.Ping, ZkOp.Ping, null).ToFrame()));
        Assert.Equal("00000008" + "00000006" + "fffffff5", Hex(ZkCodec.Request(6, ZkOp.CloseSession, null).ToFrame()));
    }

    [Fact]
    public void Auth_packet_matches_the_capture()
    {
        var frame = ZkCodec.Request(ZkXid.Auth, ZkOp.Auth, ZkCodec.Auth("digest", "alice:secret"u8.ToArray())).ToFrame();
        Assert.Equal("00000026" + "fffffffc" + "00000064" + "00000000" + "00000006" + "646967657374" + "0000000c" + "616c6963653a736563726574", Hex(frame));
    }

    [Fact]
    public void Multi_request_matches_the_191_byte_capture()
    {
        var acl = ZkAcl.OpenUnsafe;
        ZkMultiOp[] ops =
        [
            new ZkMultiOp.Create("/m/a", "1"u8.ToArray(), acl, ZkCreateMode.Persistent),
            new ZkMultiOp.Create("/m/b", "1"u8.ToArray(), acl, ZkCreateMode.Persistent),
            new ZkMultiOp.SetData("/m/a", "2"u8.ToArray(), 0),
            new ZkMultiOp.Check("/m/a", 1),
            new ZkMultiOp.Delete("/m/b", -1),
        ];
        var hex = Hex(ZkCodec.Request(2, ZkOp.Multi, ZkCodec.Multi(ops)).ToFrame());
        const string openAcl = "00000001" + "0000001f" + "00000005776f726c64" + "00000006616e796f6e65";
        // The capture's second op was create2 (opcode 15); the client sends create (1), otherwise identical.
        var expected = "000000bf" + "00000002" + "0000000e"
            + "00000001" + "00" + "ffffffff" + "000000042f6d2f61" + "0000000131" + openAcl + "00000000"
            + "00000001" + "00" + "ffffffff" + "000000042f6d2f62" + "0000000131" + openAcl + "00000000"
            + "00000005" + "00" + "ffffffff" + "000000042f6d2f61" + "0000000132" + "00000000"
            + "0000000d" + "00" + "ffffffff" + "000000042f6d2f61" + "00000001"
            + "00000002" + "00" + "ffffffff" + "000000042f6d2f62" + "ffffffff"
            + "ffffffff" + "01" + "ffffffff";
        Assert.Equal(expected, hex);
        Assert.Equal(0xbf + 4, hex.Length / 2);
    }

    [Fact]
    public void Successful_multi_response_decodes_per_op_results()
    {
        var stat = "0000000000000070" + "0000000000000071" + "000001a20318bab5" + "000001a20318bab6"
            + "00000001" + "00000000" + "00000000" + "0000000000000000" + "00000001" + "00000000" + "0000000000000070";
        var body = "00000001" + "00" + "00000000" + "000000042f6d2f61"
            + "00000001" + "00" + "00000000" + "000000042f6d2f62"
            + "00000005" + "00" + "00000000" + stat
            + "0000000d" + "00" + "00000000"
            + "00000002" + "00" + "00000000"
            + "ffffffff" + "01" + "ffffffff";
        var (results, failed, _) = ZkCodec.MultiResponse(new JuteReader(Bytes(body)));
        Assert.Equal(-1, failed);
        Assert.Equal(5, results.Count);
        Assert.Equal("/m/a", results[0].Path);
        Assert.Equal("/m/b", results[1].Path);
        Assert.Equal(1, results[2].Stat!.Version);
        Assert.Equal(0x71, results[2].Stat!.Mzxid);
    }

    [Fact]
    public void Failed_multi_response_reports_the_first_real_error()
    {
        var body = "ffffffff00" + "00000000" + "00000000"
            + "ffffffff00" + "ffffff99" + "ffffff99"
            + "ffffffff00" + "fffffffe" + "fffffffe"
            + "ffffffff01" + "ffffffff";
        var (results, failed, code) = ZkCodec.MultiResponse(new JuteReader(Bytes(body)));
        Assert.Equal(3, results.Count);
        Assert.Equal(1, failed);
        Assert.Equal(ZkError.BadVersion, code);
    }

    [Fact]
    public void Stat_of_the_create2_capture_decodes_all_eleven_fields()
    {
        var reply = Bytes("00000002" + "000000000000000d" + "00000000" + "00000006" + "2f64656d6f32"
            + "000000000000000d" + "000000000000000d" + "000001a20318bab5" + "000001a20318bab5"
            + "00000000" + "00000000" + "00000000" + "0000000000000000" + "00000002" + "00000000" + "000000000000000d");
        var r = new JuteReader(reply, ZkReply.BodyOffset);
        Assert.Equal("/demo2", r.ReadString());
        var stat = r.ReadStat();
        Assert.Equal(new ZkStat(13, 13, 0x1a20318bab5, 0x1a20318bab5, 0, 0, 0, 0, 2, 0, 13), stat);
        Assert.Equal(0, r.Remaining);
    }

    [Fact]
    public void Watch_notification_decodes()
    {
        var packet = Bytes("ffffffff" + "ffffffffffffffff" + "00000000" + "00000003" + "00000003" + "00000002" + "2f77");
        var r = new JuteReader(packet, ZkReply.BodyOffset);
        Assert.Equal(new ZkWatchEvent(ZkEventType.NodeDataChanged, 3, "/w"), ZkCodec.WatcherEvent(r));
    }

    [Fact]
    public void Null_and_empty_buffers_differ()
    {
        var w = new JuteWriter();
        w.WriteBuffer(null);
        w.WriteBuffer([]);
        w.WriteString(null);
        w.WriteString("é");
        Assert.Equal("ffffffff" + "00000000" + "ffffffff" + "00000002c3a9", Convert.ToHexStringLower(w.Body));
        var r = new JuteReader(w.Body.ToArray());
        Assert.Null(r.ReadBuffer());
        Assert.Empty(r.ReadBuffer()!);
        Assert.Null(r.ReadString());
        Assert.Equal("é", r.ReadString());
    }

    [Fact]
    public void A_truncated_reply_is_a_protocol_error()
    {
        var r = new JuteReader(Bytes("00000005" + "2f61"));
        Assert.Throws<ZkProtocolException>(() => r.ReadString());
    }

    [Fact]
    public void Digest_id_matches_the_servers_provider()
    {
        Assert.Equal("alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=", ZkAcl.DigestId("alice", "secret"));
    }

    [Theory]
    [InlineData("127.0.0.1:2181", "127.0.0.1:2181", "")]
    [InlineData("a:1,b:2,c:3/app/dcron", "a:1,b:2,c:3", "/app/dcron")]
    [InlineData("zk1, zk2:2182/", "zk1:2181,zk2:2182", "")]
    [InlineData("[::1]:2181,[fe80::1]", "[::1]:2181,[fe80::1]:2181", "")]
    public void Connect_string_parses(string input, string servers, string chroot)
    {
        var cs = ZkConnectString.Parse(input);
        Assert.Equal(servers, cs.ServerList);
        Assert.Equal(chroot, cs.Chroot);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a:1,,b:2")]
    [InlineData("a:0")]
    [InlineData("a:x")]
    [InlineData("a:1/x//y")]
    [InlineData("a:1/x/../y")]
    public void Bad_connect_strings_are_rejected_naming_the_value(string input)
    {
        var ex = Assert.Throws<ArgumentException>(() => ZkConnectString.Parse(input));
        Assert.Equal("ConnectString", ex.ParamName);
    }

    [Theory]
    [InlineData("node-1", "node-1")]
    [InlineData("host:42@x.y", "host:42@x.y")]
    [InlineData("a/b", "a%2Fb")]
    [InlineData(".", "%2E")]
    [InlineData("..", "%2E.")]
    [InlineData("50%", "50%25")]
    [InlineData("ü", "%C3%BC")]
    public void Node_ids_map_to_legal_distinct_znode_names(string id, string name)
    {
        Assert.Equal(name, ZkPaths.EncodeNodeId(id));
    }

    private static string Hex(ReadOnlyMemory<byte> frame) => Convert.ToHexStringLower(frame.Span);

    private static byte[] Bytes(string hex) => Convert.FromHexString(hex);
}
