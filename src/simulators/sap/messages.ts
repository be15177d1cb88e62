/**
 * SAP messages (T100: message class + number + text with &1..&4 placeholders) and the BAPI return
 * structures they travel in. Classes/numbers marked "real" are SAP's own; the others are plausible
 * stand-ins, listed in docs/simulators/sap.md.
 */

export type MessageType = 'S' | 'E' | 'W' | 'I' | 'A';

export interface SapMessage {
  type: MessageType;
  id: string;
  number: string;
  text: string;
  vars: string[];
  parameter?: string;
  row?: number;
  field?: string;
}

const CATALOGUE = {
  /** real: 00 055 */
  requiredFields: { id: '00', number: '055', text: 'Fill in all required entry fields' },
  valueTooLong: { id: 'AM', number: '221', text: 'Value for field &1 is too long (maximum length &2)' },
  unknownCountry: { id: 'AM', number: '227', text: 'Country &1 does not exist' },
  unknownLanguage: { id: 'AM', number: '229', text: 'Language &1 is not defined' },
  unknownSalesArea: { id: 'VP', number: '200', text: 'Sales area &1 &2 &3 is not defined' },
  unknownReferenceCustomer: {
    id: 'F2',
    number: '152',
    text: 'Reference customer &1 does not exist in sales area &2 &3 &4',
  },
  unknownCustomer: { id: 'F2', number: '160', text: 'Customer &1 does not exist' },
  customerNotInSalesArea: {
    id: 'VP',
    number: '202',
    text: 'Customer &1 is not maintained in sales area &2 &3 &4',
  },
  customerBlocked: {
    id: 'V1',
    number: '462',
    text: 'Sold-to party &1 is blocked for orders (order block &2)',
  },
  customerDeleted: { id: 'V1', number: '463', text: 'Sold-to party &1 is flagged for deletion' },
  unknownMaterial: {
    id: 'V1',
    number: '393',
    text: 'Material &1 is not defined for sales org. &2, distr. chan. &3, language &4',
  },
  materialNotInPlant: { id: 'M3', number: '305', text: 'Material &1 is not maintained in plant &2' },
  invalidQuantity: { id: 'V1', number: '226', text: 'Enter an order quantity greater than zero for item &1' },
  noItems: { id: 'V1', number: '045', text: 'Enter at least one item' },
  noSoldTo: { id: 'V1', number: '361', text: 'Enter a sold-to party' },
  unknownOrderType: { id: 'V1', number: '164', text: 'Sales document type &1 is not defined' },
  /** real: V4 233 */
  processed: { id: 'V4', number: '233', text: '&1 has been processed successfully' },
  /** real: V1 311 */
  saved: { id: 'V1', number: '311', text: '&1 &2 has been saved' },
  /** real: V4 219 */
  notSaved: { id: 'V4', number: '219', text: 'Sales document was not changed' },
  /** real: V1 302 */
  documentNotFound: {
    id: 'V1',
    number: '302',
    text: 'SD document &1 is not in the database or has been archived',
  },
  /** real: V1 042 */
  documentLocked: {
    id: 'V1',
    number: '042',
    text: 'Sales document &1 is currently being processed (by user &2)',
  },
  noUpdateFlag: { id: 'V1', number: '380', text: 'Enter update flag U in ORDER_HEADER_INX' },
  findFieldNotSupported: { id: 'F2', number: '830', text: 'Field &1-&2 cannot be used as search criterion' },
  blocksUpdated: {
    id: 'ZSD_INT',
    number: '001',
    text: 'Customer &1: deletion flag "&2", order block "&3" set',
  },
  invalidDeletionFlag: { id: 'ZSD_INT', number: '002', text: 'Deletion flag must be X or space, not "&1"' },
  invalidOrderBlock: { id: 'ZSD_INT', number: '003', text: 'Order block &1 is not defined (table TVAST)' },
} as const;

export type MessageKey = keyof typeof CATALOGUE;

export function msg(
  type: MessageType,
  key: MessageKey,
  vars: readonly string[] = [],
  extra: Pick<SapMessage, 'parameter' | 'row' | 'field'> = {},
): SapMessage {
  const entry = CATALOGUE[key];
  const v = [...vars];
  const text = entry.text.replace(/&(\d)/g, (_m, i: string) => v[Number(i) - 1] ?? '');
  return { type, id: entry.id, number: entry.number, text, vars: v, ...extra };
}

export function isError(m: SapMessage): boolean {
  return m.type === 'E' || m.type === 'A';
}

const vars4 = (m?: SapMessage) => ({
  MESSAGE_V1: m?.vars[0] ?? '',
  MESSAGE_V2: m?.vars[1] ?? '',
  MESSAGE_V3: m?.vars[2] ?? '',
  MESSAGE_V4: m?.vars[3] ?? '',
});

/** BAPIRETURN1 / BAPIRET1 (same fields). An absent message gives SAP's all-initial structure. */
export function bapiret1(m?: SapMessage): Record<string, unknown> {
  return {
    TYPE: m?.type ?? '',
    ID: m?.id ?? '',
    NUMBER: m?.number ?? '000',
    MESSAGE: m?.text ?? '',
    LOG_NO: '',
    LOG_MSG_NO: '000000',
    ...vars4(m),
  };
}

export function bapiret2(m: SapMessage | undefined, system: string): Record<string, unknown> {
  return {
    ...bapiret1(m),
    PARAMETER: m?.parameter ?? '',
    ROW: m?.row ?? 0,
    FIELD: m?.field ?? '',
    SYSTEM: m ? system : '',
  };
}

/** The old BAPIRETURN: CODE is message class + number run together. */
export function bapireturn(m?: SapMessage): Record<string, unknown> {
  return {
    TYPE: m?.type ?? '',
    CODE: m ? `${m.id}${m.number}` : '',
    MESSAGE: m?.text ?? '',
    LOG_NO: '',
    LOG_MSG_NO: '000000',
    ...vars4(m),
  };
}
