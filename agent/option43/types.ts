/**
 * The upgrade offer carried in option 43 (CTS layout, seed 000), as decoded by a vendor
 * profile. Field names are the CLI/JSON contract of `decode opt43 --json` and `status`.
 */
export interface UnknownSubOption {
  code: number;
  /** lowercase hex of the value */
  hex: string;
}

export interface Option43Offer {
  protocol?: 'tftp' | 'ftp';
  /** dotted IPv4 */
  server?: string;
  user?: string;
  /** a secret: never logged; masked in `status` */
  password?: string;
  softwareFile?: string;
  /** 32 lowercase hex */
  softwareMd5?: string;
  configFile?: string;
  configMd5?: string;
  /** 16-bit flags word */
  flags?: number;
  /** flags bit 0 */
  urgent?: boolean;
  unknown: UnknownSubOption[];
}
