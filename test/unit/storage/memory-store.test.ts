import { MemoryStore } from "../../../component/src/storage/memory/memory-store.js";
import { describeStoreContract } from "./store-contract.js";

describeStoreContract("memory", () => new MemoryStore());
