/**
 * Types for the part of npm `net-snmp` 3.29 that agent/snmp uses (the package ships none).
 * Only what is called is declared; the runtime is the library itself.
 */
declare module 'net-snmp' {
  import type { Socket as DgramSocket } from 'node:dgram';

  export const Version1: 0;
  export const Version2c: 1;
  export const Version3: 3;

  export const ErrorStatus: {
    NoError: 0; TooBig: 1; NoSuchName: 2; BadValue: 3; ReadOnly: 4; GeneralError: 5; NoAccess: 6; WrongType: 7; WrongLength: 8;
    WrongEncoding: 9; WrongValue: 10; NoCreation: 11; InconsistentValue: 12; ResourceUnavailable: 13; CommitFailed: 14;
    UndoFailed: 15; AuthorizationError: 16; NotWritable: 17; InconsistentName: 18;
  };
  export const ObjectType: {
    Boolean: 1; Integer: 2; OctetString: 4; Null: 5; OID: 6; IpAddress: 64; Counter: 65; Counter32: 65; Gauge: 66; Gauge32: 66;
    TimeTicks: 67; Opaque: 68; Integer32: 2; Unsigned32: 66; Counter64: 70; NoSuchObject: 128; NoSuchInstance: 129; EndOfMibView: 130;
  };
  export const PduType: { GetRequest: 160; GetNextRequest: 161; GetResponse: 162; SetRequest: 163; Trap: 164; GetBulkRequest: 165; InformRequest: 166; TrapV2: 167; Report: 168 };
  export const MibProviderType: { Scalar: 1; Table: 2 };
  export const MaxAccess: { 'not-accessible': 0; 'accessible-for-notify': 1; 'read-only': 2; 'read-write': 3; 'read-create': 4 };
  export const SecurityLevel: { noAuthNoPriv: 1; authNoPriv: 2; authPriv: 3 };
  export const AuthProtocols: { none: 1; md5: 2; sha: 3; sha224: 4; sha256: 5; sha384: 6; sha512: 7 };
  export const PrivProtocols: { none: 1; des: 2; aes: 4; aes256b: 6; aes256r: 8 };
  export const AccessControlModelType: { None: 0; Simple: 1 };
  export const AccessLevel: { None: 0; ReadOnly: 1; ReadWrite: 2 };
  export const ResponseInvalidCode: { ECouldNotDecrypt: 4; EAuthFailure: 5; ENotInTimeWindow: 14 };
  export const TrapType: { ColdStart: 0; WarmStart: 1; EnterpriseSpecific: 6 };

  export type ObjectTypeValue = (typeof ObjectType)[keyof typeof ObjectType];
  export type ErrorStatusValue = (typeof ErrorStatus)[keyof typeof ErrorStatus];
  export type VarbindValue = string | number | boolean | Buffer | bigint | null;

  export interface Varbind {
    oid: string;
    type: ObjectTypeValue;
    value: VarbindValue;
  }

  export interface MibNode {
    oid: string;
    value: VarbindValue | undefined;
    valueType: ObjectTypeValue;
  }

  export interface MibRequest {
    oid: string;
    operation: number;
    instanceNode: MibNode;
    setValue?: VarbindValue;
    setType?: ObjectTypeValue;
    testSet?: boolean;
    commitSet?: boolean;
    done(error?: { errorStatus: ErrorStatusValue; type?: ObjectTypeValue; value?: VarbindValue }): void;
  }

  export interface ColumnDefinition {
    number: number;
    name: string;
    type: ObjectTypeValue;
    maxAccess: number;
  }

  export interface ProviderDefinition {
    name: string;
    type: 1 | 2;
    oid: string;
    scalarType?: ObjectTypeValue;
    maxAccess: number;
    tableColumns?: ColumnDefinition[];
    tableIndex?: Array<{ columnName: string } | { columnNumber: number }>;
    handler?: (req: MibRequest) => void;
  }

  export interface Mib {
    registerProvider(p: ProviderDefinition): void;
    unregisterProvider(name: string): void;
    setScalarValue(name: string, v: VarbindValue): void;
    getScalarValue(name: string): VarbindValue;
    getProviders(): Record<string, ProviderDefinition>;
    addTableRow(name: string, row: VarbindValue[]): void;
    deleteTableRow(name: string, index: VarbindValue[]): void;
    lookup(oid: string): MibNode | null;
    getAncestorProviderFromOid(oid: string): ProviderDefinition | null;
  }

  export interface User {
    name: string;
    level: number;
    authProtocol?: number;
    authKey?: string;
    privProtocol?: number;
    privKey?: string;
  }

  export interface SimpleAccessControlModel {
    setCommunityAccess(community: string, level: number): void;
    setUserAccess(userName: string, level: number): void;
  }

  export interface Authorizer {
    addCommunity(c: string): void;
    addUser(u: User): void;
    getAccessControlModel(): SimpleAccessControlModel;
  }

  export interface RequestMessage {
    version: number;
    community?: string;
    pdu: { type: number; varbinds: Varbind[] };
  }

  export interface Agent {
    getMib(): Mib;
    getAuthorizer(): Authorizer;
    close(cb?: () => void): void;
    setRequest(socket: DgramSocket, message: RequestMessage, rinfo: unknown): void;
    /** GetNext/GetBulk: appends the varbind after `startOid`; returns the node found (agent/snmp/virtual.ts) */
    addGetNextVarbind(varbinds: Array<{ oid: string; type: number; value: unknown; previousOid?: string }>, startOid: string): unknown;
  }

  export interface DgramLike {
    createSocket(type: 'udp4' | 'udp6'): DgramSocket;
  }

  export interface AgentOptions {
    port?: number;
    address?: string | null;
    transport?: 'udp4' | 'udp6';
    disableAuthorization?: boolean;
    accessControlModelType?: number;
    engineID?: string;
    dgramModule?: DgramLike;
  }

  export interface AgentError extends Error {
    rinfo?: { address: string; port: number };
    code?: number;
  }

  export const AgentXPduType: {
    Open: 1; Close: 2; Register: 3; Unregister: 4; Get: 5; GetNext: 6; GetBulk: 7; TestSet: 8; CommitSet: 9; UndoSet: 10;
    CleanupSet: 11; Notify: 12; Ping: 13; IndexAllocate: 14; IndexDeallocate: 15; AddAgentCaps: 16; RemoveAgentCaps: 17; Response: 18;
  };

  export interface AgentXPduObject {
    pduType: number;
    sessionID: number;
    packetID: number;
    /** Response: the error status (e.g. 263 duplicateRegistration) */
    error?: number;
    index?: number;
    varbinds?: Varbind[];
  }

  export const AgentXPdu: {
    createFromVariables(vars: { pduType: number; sessionID?: number; rangeSubid?: number; timeout?: number; priority?: number; oid?: string; descr?: string; varbinds?: Varbind[] }): AgentXPduObject;
  };

  export interface Subagent {
    socket: import('node:net').Socket;
    sessionID: number;
    requestPdus: Record<number, AgentXPduObject>;
    open(cb: (err: Error | null, pdu?: AgentXPduObject) => void): void;
    close(cb?: (err: Error | null) => void): void;
    sendPdu(pdu: AgentXPduObject, cb: ((err: Error | null, pdu?: AgentXPduObject) => void) | null): void;
    onMsg(buf: Buffer): void;
    notify(oid: string, varbinds: Varbind[], cb: (err: Error | null, pdu?: AgentXPduObject) => void): void;
    ping(cb: (err: Error | null, pdu?: AgentXPduObject) => void): void;
    testSet(pdu: AgentXPduObject): void;
    sendResponse(pdu: AgentXPduObject, varbinds?: Varbind[]): void;
    addGetNextVarbind(varbinds: Array<{ oid: string; type: number; value: unknown; previousOid?: string }>, startOid: string): unknown;
    getMib(): Mib;
  }

  export function createSubagent(opts: { master: string; masterPort: number | string; mib?: Mib; description?: string; timeout?: number }): Subagent;

  export function createAgent(opts: AgentOptions, cb: (err: AgentError | null, data?: unknown) => void, mib?: Mib): Agent;
  export function createMib(opts?: { addScalarDefaultsOnRegistration?: boolean }): Mib;

  export interface SessionOptions {
    port?: number;
    version?: number;
    timeout?: number;
    retries?: number;
    trapPort?: number;
    transport?: 'udp4' | 'udp6';
    engineID?: string;
  }
  export interface Session {
    get(oids: string[], cb: (err: Error | null, varbinds?: Varbind[]) => void): void;
    getNext(oids: string[], cb: (err: Error | null, varbinds?: Varbind[]) => void): void;
    getBulk(oids: string[], nonRepeaters: number, maxRepetitions: number, cb: (err: Error | null, varbinds?: Varbind[] | Varbind[][]) => void): void;
    set(varbinds: Varbind[], cb: (err: Error | null, varbinds?: Varbind[]) => void): void;
    trap(oid: string, varbinds: Varbind[], cb: (err: Error | null) => void): void;
    inform(oid: string, varbinds: Varbind[], cb: (err: Error | null) => void): void;
    close(): void;
    on(ev: 'error', cb: (err: Error) => void): void;
  }
  export function createSession(target: string, community: string, opts?: SessionOptions): Session;
  export function createV3Session(target: string, user: User, opts?: SessionOptions): Session;
  export function isVarbindError(v: Varbind): boolean;

  const snmp: {
    Version1: typeof Version1;
    Version2c: typeof Version2c;
    Version3: typeof Version3;
    ErrorStatus: typeof ErrorStatus;
    ObjectType: typeof ObjectType;
    PduType: typeof PduType;
    MibProviderType: typeof MibProviderType;
    MaxAccess: typeof MaxAccess;
    SecurityLevel: typeof SecurityLevel;
    AuthProtocols: typeof AuthProtocols;
    PrivProtocols: typeof PrivProtocols;
    AccessControlModelType: typeof AccessControlModelType;
    AccessLevel: typeof AccessLevel;
    ResponseInvalidCode: typeof ResponseInvalidCode;
    TrapType: typeof TrapType;
    createAgent: typeof createAgent;
    createMib: typeof createMib;
    createSubagent: typeof createSubagent;
    AgentXPdu: typeof AgentXPdu;
    AgentXPduType: typeof AgentXPduType;
    createSession: typeof createSession;
    createV3Session: typeof createV3Session;
    isVarbindError: typeof isVarbindError;
  };
  export default snmp;
}
