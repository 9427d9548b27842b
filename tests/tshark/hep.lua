-- hep.lua: a HEPv3 dissector for tshark, written for tests/it_hep.sh:
-- Wireshark 4.0 (Debian 12's) ships no HEP dissector, so the test loads
-- this one (`tshark -X lua_script:tests/tshark/hep.lua -d udp.port==PORT,hep`).
-- It reads the chunks as the HEP3 specification lays them out
-- (github.com/sipcapture/HEP), flags anything out of shape as malformed
-- (expert info, error severity), and hands a protocol type 1 payload to
-- Wireshark's own SIP dissector. it_hep.sh checks it against packets made by
-- hep-js (sipcapture's encoder) as well as by switchyard's, so it is not
-- switchyard's encoder checked against itself.
local hep = Proto("hep", "HEP/EEP Encapsulation Protocol version 3")

local f = hep.fields
f.id = ProtoField.string("hep.id", "Protocol id")
f.length = ProtoField.uint16("hep.length", "Total length")
f.vendor = ProtoField.uint16("hep.chunk.vendor", "Chunk vendor", base.HEX)
f.type = ProtoField.uint16("hep.chunk.type", "Chunk type", base.HEX)
f.clen = ProtoField.uint16("hep.chunk.length", "Chunk length")
f.family = ProtoField.uint8("hep.ip_family", "IP family")
f.proto = ProtoField.uint8("hep.ip_proto", "IP protocol")
f.src4 = ProtoField.ipv4("hep.src_ip4", "Source IPv4")
f.dst4 = ProtoField.ipv4("hep.dst_ip4", "Destination IPv4")
f.src6 = ProtoField.ipv6("hep.src_ip6", "Source IPv6")
f.dst6 = ProtoField.ipv6("hep.dst_ip6", "Destination IPv6")
f.sport = ProtoField.uint16("hep.src_port", "Source port")
f.dport = ProtoField.uint16("hep.dst_port", "Destination port")
f.tsec = ProtoField.uint32("hep.ts_sec", "Timestamp seconds")
f.tusec = ProtoField.uint32("hep.ts_usec", "Timestamp microseconds")
f.ptype = ProtoField.uint8("hep.proto_type", "Protocol type")
f.capid = ProtoField.uint32("hep.capture_id", "Capture agent id")
f.key = ProtoField.string("hep.auth_key", "Authentication key")
f.node = ProtoField.string("hep.node_name", "Node name")
f.payload = ProtoField.bytes("hep.payload", "Payload")

local bad = ProtoExpert.new("hep.malformed", "Malformed HEP packet", expert.group.MALFORMED, expert.severity.ERROR)
hep.experts = { bad }

-- generic chunk type -> field and the size it must have (0: any)
local chunks = {
	[0x01] = { f.family, 1 }, [0x02] = { f.proto, 1 },
	[0x03] = { f.src4, 4 }, [0x04] = { f.dst4, 4 },
	[0x05] = { f.src6, 16 }, [0x06] = { f.dst6, 16 },
	[0x07] = { f.sport, 2 }, [0x08] = { f.dport, 2 },
	[0x09] = { f.tsec, 4 }, [0x0a] = { f.tusec, 4 },
	[0x0b] = { f.ptype, 1 }, [0x0c] = { f.capid, 4 },
	[0x0e] = { f.key, 0 }, [0x0f] = { f.payload, 0 }, [0x13] = { f.node, 0 },
}

local sip = Dissector.get("sip")

function hep.dissector(tvb, pinfo, tree)
	if tvb:len() < 6 or tvb(0, 4):string() ~= "HEP3" then
		return 0
	end
	pinfo.cols.protocol = "HEP3"
	local total = tvb(4, 2):uint()
	local t = tree:add(hep, tvb(0, math.min(total, tvb:len())))
	t:add(f.id, tvb(0, 4))
	t:add(f.length, tvb(4, 2))
	if total < 6 or total > tvb:len() then
		t:add_proto_expert_info(bad, "total length out of the datagram")
		return tvb:len()
	end
	local at, ptype, payload = 6, nil, nil
	while at < total do
		if total - at < 6 then
			t:add_proto_expert_info(bad, "chunk header cut off")
			return total
		end
		local vendor, ctype, clen = tvb(at, 2):uint(), tvb(at + 2, 2):uint(), tvb(at + 4, 2):uint()
		if clen < 6 or clen > total - at then
			t:add_proto_expert_info(bad, "chunk length out of the packet")
			return total
		end
		local c = t:add(tvb(at, clen), string.format("Chunk 0x%04x/0x%04x", vendor, ctype))
		c:add(f.vendor, tvb(at, 2))
		c:add(f.type, tvb(at + 2, 2))
		c:add(f.clen, tvb(at + 4, 2))
		local known = vendor == 0 and chunks[ctype] or nil
		if known then
			local vlen = clen - 6
			if known[2] > 0 and vlen ~= known[2] then
				c:add_proto_expert_info(bad, "chunk of the wrong size for its type")
			elseif vlen > 0 then
				c:add(known[1], tvb(at + 6, vlen))
				if ctype == 0x0b then
					ptype = tvb(at + 6, 1):uint()
				elseif ctype == 0x0f then
					payload = tvb(at + 6, vlen)
				end
			end
		end
		at = at + clen
	end
	if payload == nil then
		t:add_proto_expert_info(bad, "no payload chunk")
	elseif ptype == 1 then
		sip:call(payload:tvb(), pinfo, tree)
	end
	return total
end

DissectorTable.get("udp.port"):add_for_decode_as(hep)
