import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';

/**
 * Strict validation of SOAP responses with libxml2's own validator (xmllint compiled to WebAssembly),
 * independent of node-soap: the document must be namespace-well-formed, and the Body's content must be
 * valid against the schema embedded in the project's WSDL (element order of every xsd:sequence,
 * simple-type patterns and lengths, required elements).
 */

const WSDL_FILE = path.resolve(__dirname, '../../wsdl/sap/rfc-functions.wsdl');

/** The WSDL's <xsd:schema>, made a standalone schema document (its prefixes are declared on the WSDL root). */
function rfcSchema(): string {
  const wsdl = readFileSync(WSDL_FILE, 'utf8');
  const start = wsdl.indexOf('<xsd:schema');
  const end = wsdl.indexOf('</xsd:schema>') + '</xsd:schema>'.length;
  if (start < 0 || end < start) throw new Error('no <xsd:schema> in the WSDL');
  return `<?xml version="1.0" encoding="utf-8"?>\n${wsdl
    .slice(start, end)
    .replace(
      '<xsd:schema',
      '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="urn:sap-com:document:sap:rfc:functions"',
    )}`;
}

/**
 * SOAP 1.1's envelope structure (Envelope = Header?, Body; Body holds elements of other namespaces),
 * with Body content validated strictly against the imported RFC schema.
 */
const ENVELOPE_XSD = `<?xml version="1.0" encoding="utf-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"
  targetNamespace="http://schemas.xmlsoap.org/soap/envelope/" elementFormDefault="qualified">
  <xs:import namespace="urn:sap-com:document:sap:rfc:functions" schemaLocation="rfc-functions.xsd"/>
  <xs:element name="Envelope">
    <xs:complexType>
      <xs:sequence>
        <xs:element ref="env:Header" minOccurs="0"/>
        <xs:element ref="env:Body"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:element name="Header">
    <xs:complexType>
      <xs:sequence><xs:any namespace="##other" minOccurs="0" maxOccurs="unbounded" processContents="lax"/></xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:element name="Body">
    <xs:complexType>
      <xs:sequence><xs:any namespace="##other" minOccurs="0" maxOccurs="unbounded" processContents="strict"/></xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>`;

let schemaText: string | undefined;

/** The validator's messages; empty when the envelope is valid. */
export async function soapEnvelopeErrors(xml: string): Promise<string[]> {
  schemaText ??= rfcSchema();
  const result = await validateXML({
    xml: { fileName: 'response.xml', contents: xml },
    schema: { fileName: 'envelope.xsd', contents: ENVELOPE_XSD },
    preload: { fileName: 'rfc-functions.xsd', contents: schemaText },
  });
  return result.valid ? [] : result.errors.map((e) => e.message);
}
