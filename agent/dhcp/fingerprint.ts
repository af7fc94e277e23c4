/**
 * What the agent asks for. The default is the fingerprint of the real CTS modem in seed
 * 000's capture: option 55 = [54, 51, 58, 59, 1, 3, 6, 15, 28, 43], option 57 = 576.
 * ISC dhcpd sends option 43 only when the client lists it in option 55.
 */
export interface ClientFingerprint {
  parameterRequestList: number[];
  maxMessageSize: number;
}

export const CTS_FINGERPRINT: ClientFingerprint = Object.freeze({
  parameterRequestList: [54, 51, 58, 59, 1, 3, 6, 15, 28, 43],
  maxMessageSize: 576,
});
