;; x87_calls: 2 blocks, 8 instructions, 0 stepped
(module $page_08048000
  (type (;0;) (func (param i32) (result i32)))
  (type (;1;) (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  (type (;2;) (func (param i32 i32) (result i32)))
  (type (;3;) (func (param i64 i64) (result i64 i64)))
  (type (;4;) (func (param i64 i64 i32 i32) (result i64 i32 i32)))
  (type (;5;) (func (param i64 i64) (result i64 i32)))
  (type (;6;) (func (param i64 i32) (result i64 i32)))
  (import "wax" "step" (func (;0;) (type 0)))
  (import "wax" "flags" (func (;1;) (type 1)))
  (import "wax" "fpu" (func (;2;) (type 2)))
  (import "wax" "mem" (memory (;0;) 1))
  (import "wax" "links" (table (;0;) 0 funcref))
  (export "run" (func 3))
  (func (;3;) (type 2) (param i32 i32) (result i32)
    (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i64 i64 i64 i32 i32 i64 i64 i64 i64 i32 i32 i32 i32)
    i32.const 0
    i32.load
    local.set 2
    i32.const 0
    i32.load offset=4
    local.set 3
    i32.const 0
    i32.load offset=8
    local.set 4
    i32.const 0
    i32.load offset=12
    local.set 5
    i32.const 0
    i32.load offset=16
    local.set 6
    i32.const 0
    i32.load offset=20
    local.set 7
    i32.const 0
    i32.load offset=24
    local.set 8
    i32.const 0
    i32.load offset=28
    local.set 9
    i32.const 0
    i32.load offset=32
    local.set 10
    i32.const 0
    i32.load offset=32768
    local.set 13
    i32.const 0
    i64.load offset=32776
    local.set 27
    local.get 0
    local.set 11
    loop ;; label = @1
      block ;; label = @2
        block ;; label = @3
          block ;; label = @4
            loop ;; label = @5
              block ;; label = @6
                block ;; label = @7
                  block ;; label = @8
                    local.get 11
                    br_table 0 (;@8;) 1 (;@7;) 2 (;@6;)
                  end
                  local.get 27
                  i64.const 6
                  i64.lt_s
                  if ;; label = @8
                    i32.const 0
                    local.set 11
                    br 5 (;@3;)
                  end
                  local.get 27
                  i64.const 6
                  i64.sub
                  local.set 27
                  i32.const 8
                  local.get 5
                  i32.add
                  local.get 8
                  i32.const 3
                  i32.shl
                  i32.add
                  local.set 19
                  block ;; label = @8
                    block ;; label = @9
                      i32.const 0
                      i32.load16_u offset=282
                      local.set 24
                      i32.const 0
                      i32.load16_u offset=280
                      local.tee 26
                      i32.const 63
                      i32.xor
                      i32.const 63
                      i32.and
                      i32.const 128
                      i32.or
                      local.get 24
                      i32.and
                      br_if 0 (;@9;)
                      i32.const 0
                      i32.load16_u offset=286
                      local.set 22
                      i32.const 0
                      i32.load16_u offset=284
                      local.set 25
                      local.get 19
                      local.get 13
                      call 6
                      local.tee 21
                      i32.eqz
                      local.get 19
                      i32.const 4095
                      i32.and
                      i32.const 4088
                      i32.gt_u
                      i32.or
                      br_if 0 (;@9;)
                      local.get 25
                      local.get 22
                      i32.const 7
                      i32.add
                      i32.const 7
                      i32.and
                      i32.const 1
                      i32.shl
                      i32.shr_u
                      i32.const 3
                      i32.and
                      i32.const 3
                      i32.ne
                      br_if 0 (;@9;)
                      local.get 21
                      i64.load align=1
                      local.set 28
                      local.get 22
                      i32.const 7
                      i32.add
                      i32.const 7
                      i32.and
                      i32.const 4
                      i32.shl
                      i32.const 152
                      i32.add
                      local.set 20
                      local.get 28
                      i64.const 52
                      i64.shr_u
                      i32.wrap_i64
                      i32.const 2047
                      i32.and
                      local.set 23
                      local.get 28
                      i64.const 9223372036854775807
                      i64.and
                      i64.eqz
                      if ;; label = @10
                        local.get 20
                        i64.const 0
                        i64.store
                        local.get 20
                        local.get 28
                        i64.const 48
                        i64.shr_u
                        i64.const 32768
                        i64.and
                        i64.store offset=8
                      else
                        local.get 23
                        i32.const 1
                        i32.sub
                        i32.const 2046
                        i32.ge_u
                        br_if 1 (;@9;)
                        local.get 20
                        local.get 28
                        i64.const 11
                        i64.shl
                        i64.const -9223372036854775808
                        i64.or
                        i64.store
                        local.get 20
                        local.get 28
                        i64.const 48
                        i64.shr_u
                        i64.const 32768
                        i64.and
                        local.get 23
                        i32.const 15360
                        i32.add
                        i64.extend_i32_u
                        i64.or
                        i64.store offset=8
                      end
                      i32.const 3
                      local.get 22
                      i32.const 7
                      i32.add
                      i32.const 7
                      i32.and
                      i32.const 1
                      i32.shl
                      i32.shl
                      i32.const -1
                      i32.xor
                      local.get 25
                      i32.and
                      local.set 25
                      i32.const 0
                      local.get 25
                      i32.store16 offset=284
                      i32.const 0
                      local.get 22
                      i32.const 7
                      i32.add
                      i32.const 7
                      i32.and
                      i32.store16 offset=286
                      i32.const 0
                      local.get 24
                      i32.const -33409
                      i32.and
                      i32.store16 offset=282
                      br 1 (;@8;)
                    end
                    i32.const 0
                    i32.const 134512640
                    i32.store offset=32
                    i32.const 8495
                    local.get 19
                    call 2
                    local.set 26
                    local.get 26
                    if ;; label = @9
                      local.get 27
                      i64.const 5
                      i64.add
                      local.set 27
                      i32.const 0
                      i32.load offset=32
                      local.set 10
                      local.get 26
                      local.set 12
                      br 7 (;@2;)
                    end
                  end
                  block ;; label = @8
                    block ;; label = @9
                      i32.const 0
                      i32.load16_u offset=282
                      local.set 24
                      i32.const 0
                      i32.load16_u offset=280
                      local.tee 26
                      i32.const 63
                      i32.xor
                      i32.const 63
                      i32.and
                      i32.const 128
                      i32.or
                      local.get 24
                      i32.and
                      br_if 0 (;@9;)
                      i32.const 0
                      i32.load16_u offset=286
                      local.set 22
                      i32.const 0
                      i32.load16_u offset=284
                      local.set 25
                      local.get 26
                      i32.const 3872
                      i32.and
                      i32.const 800
                      i32.ne
                      br_if 0 (;@9;)
                      local.get 25
                      local.get 22
                      i32.const 1
                      i32.shl
                      i32.shr_u
                      i32.const 3
                      i32.and
                      i32.const 3
                      i32.eq
                      br_if 0 (;@9;)
                      local.get 25
                      local.get 22
                      i32.const 1
                      i32.add
                      i32.const 7
                      i32.and
                      i32.const 1
                      i32.shl
                      i32.shr_u
                      i32.const 3
                      i32.and
                      i32.const 3
                      i32.eq
                      br_if 0 (;@9;)
                      local.get 22
                      i32.const 1
                      i32.add
                      i32.const 7
                      i32.and
                      i32.const 4
                      i32.shl
                      i32.const 152
                      i32.add
                      local.set 20
                      local.get 20
                      i64.load
                      local.set 29
                      local.get 20
                      i32.load16_u offset=8
                      local.set 26
                      local.get 29
                      i64.const 0
                      i64.ge_s
                      local.get 26
                      i32.const 32767
                      i32.and
                      i32.const 1
                      i32.sub
                      i32.const 32766
                      i32.ge_u
                      i32.or
                      if ;; label = @10
                        local.get 29
                        i64.const 0
                        i64.ne
                        local.get 26
                        i32.const 32767
                        i32.and
                        i32.or
                        br_if 1 (;@9;)
                      end
                      local.get 22
                      i32.const 4
                      i32.shl
                      i32.const 152
                      i32.add
                      local.set 23
                      local.get 23
                      i64.load
                      local.set 28
                      local.get 23
                      i32.load16_u offset=8
                      local.set 21
                      local.get 28
                      i64.const 0
                      i64.ge_s
                      local.get 21
                      i32.const 32767
                      i32.and
                      i32.const 1
                      i32.sub
                      i32.const 32766
                      i32.ge_u
                      i32.or
                      if ;; label = @10
                        local.get 28
                        i64.const 0
                        i64.ne
                        local.get 21
                        i32.const 32767
                        i32.and
                        i32.or
                        br_if 1 (;@9;)
                      end
                      local.get 28
                      i64.eqz
                      local.get 29
                      i64.eqz
                      i32.or
                      if ;; label = @10
                        local.get 23
                        i64.const 0
                        i64.store
                        local.get 23
                        local.get 21
                        local.get 26
                        i32.xor
                        i32.const 32768
                        i32.and
                        i64.extend_i32_u
                        i64.store offset=8
                        i32.const 0
                        local.get 24
                        i32.const -33409
                        i32.and
                        i32.store16 offset=282
                        br 2 (;@8;)
                      end
                      local.get 21
                      i32.const 32767
                      i32.and
                      local.get 26
                      i32.const 32767
                      i32.and
                      i32.add
                      i32.const 16383
                      i32.sub
                      local.get 21
                      local.get 26
                      i32.xor
                      i32.const 32768
                      i32.and
                      local.set 21
                      local.set 26
                      local.get 28
                      i64.const 4294967295
                      i64.and
                      local.get 29
                      i64.const 4294967295
                      i64.and
                      i64.mul
                      local.set 32
                      local.get 28
                      i64.const 4294967295
                      i64.and
                      local.get 29
                      i64.const 32
                      i64.shr_u
                      i64.mul
                      local.set 33
                      local.get 28
                      i64.const 32
                      i64.shr_u
                      local.get 29
                      i64.const 4294967295
                      i64.and
                      i64.mul
                      local.set 34
                      local.get 32
                      i64.const 32
                      i64.shr_u
                      local.get 33
                      i64.const 4294967295
                      i64.and
                      i64.add
                      local.get 34
                      i64.const 4294967295
                      i64.and
                      i64.add
                      local.set 35
                      local.get 28
                      i64.const 32
                      i64.shr_u
                      local.get 29
                      i64.const 32
                      i64.shr_u
                      i64.mul
                      local.get 33
                      i64.const 32
                      i64.shr_u
                      i64.add
                      local.get 34
                      i64.const 32
                      i64.shr_u
                      i64.add
                      local.get 35
                      i64.const 32
                      i64.shr_u
                      i64.add
                      local.get 32
                      i64.const 4294967295
                      i64.and
                      local.get 35
                      i64.const 32
                      i64.shl
                      i64.or
                      local.set 29
                      local.set 28
                      local.get 28
                      i64.const 0
                      i64.lt_s
                      if ;; label = @10
                        local.get 26
                        i32.const 1
                        i32.add
                        local.set 26
                      else
                        local.get 28
                        i64.const 1
                        i64.shl
                        local.get 29
                        i64.const 63
                        i64.shr_u
                        i64.or
                        local.set 28
                        local.get 29
                        i64.const 1
                        i64.shl
                        local.set 29
                      end
                      local.get 26
                      i32.const 1
                      i32.sub
                      i32.const 32764
                      i32.gt_u
                      br_if 0 (;@9;)
                      local.get 29
                      i64.const 63
                      i64.shr_u
                      i32.wrap_i64
                      local.get 29
                      i64.const 1
                      i64.shl
                      i64.const 0
                      i64.ne
                      local.get 28
                      i32.wrap_i64
                      i32.const 1
                      i32.and
                      i32.or
                      i32.and
                      local.set 19
                      local.get 29
                      i64.const 0
                      i64.ne
                      local.set 20
                      local.get 28
                      local.get 19
                      i64.extend_i32_u
                      i64.add
                      local.tee 28
                      i64.eqz
                      if ;; label = @10
                        i64.const -9223372036854775808
                        local.set 28
                        local.get 26
                        i32.const 1
                        i32.add
                        local.set 26
                      end
                      local.get 23
                      local.get 28
                      i64.store
                      local.get 23
                      local.get 21
                      local.get 26
                      i32.or
                      i64.extend_i32_u
                      i64.store offset=8
                      i32.const 0
                      local.get 24
                      i32.const -33409
                      i32.and
                      local.get 20
                      i32.const 32
                      i32.mul
                      i32.or
                      local.get 19
                      i32.const 512
                      i32.mul
                      i32.or
                      i32.store16 offset=282
                      br 1 (;@8;)
                    end
                    i32.const 0
                    i32.const 134512644
                    i32.store offset=32
                    i32.const 4113
                    i32.const 0
                    call 2
                    local.set 26
                    local.get 26
                    if ;; label = @9
                      local.get 27
                      i64.const 4
                      i64.add
                      local.set 27
                      i32.const 0
                      i32.load offset=32
                      local.set 10
                      local.get 26
                      local.set 12
                      br 7 (;@2;)
                    end
                  end
                  i32.const 0
                  local.get 8
                  i32.add
                  local.set 19
                  block ;; label = @8
                    block ;; label = @9
                      i32.const 0
                      i32.load16_u offset=282
                      local.set 24
                      i32.const 0
                      i32.load16_u offset=280
                      local.tee 26
                      i32.const 63
                      i32.xor
                      i32.const 63
                      i32.and
                      i32.const 128
                      i32.or
                      local.get 24
                      i32.and
                      br_if 0 (;@9;)
                      i32.const 0
                      i32.load16_u offset=286
                      local.set 22
                      i32.const 0
                      i32.load16_u offset=284
                      local.set 25
                      local.get 26
                      i32.const 3872
                      i32.and
                      i32.const 800
                      i32.ne
                      br_if 0 (;@9;)
                      local.get 25
                      local.get 22
                      i32.const 1
                      i32.shl
                      i32.shr_u
                      i32.const 3
                      i32.and
                      i32.const 3
                      i32.eq
                      br_if 0 (;@9;)
                      local.get 19
                      local.get 13
                      call 6
                      local.tee 21
                      i32.eqz
                      local.get 19
                      i32.const 4095
                      i32.and
                      i32.const 4088
                      i32.gt_u
                      i32.or
                      br_if 0 (;@9;)
                      local.get 21
                      i64.load align=1
                      local.set 29
                      local.get 29
                      i64.const 52
                      i64.shr_u
                      i32.wrap_i64
                      i32.const 2047
                      i32.and
                      local.set 21
                      local.get 21
                      i32.const 1
                      i32.sub
                      i32.const 2046
                      i32.ge_u
                      if ;; label = @10
                        local.get 29
                        i64.const 9223372036854775807
                        i64.and
                        i64.const 0
                        i64.ne
                        br_if 1 (;@9;)
                        local.get 29
                        i64.const 48
                        i64.shr_u
                        i32.wrap_i64
                        i32.const 32768
                        i32.and
                        local.set 26
                        i64.const 0
                        local.set 29
                      else
                        local.get 29
                        i64.const 48
                        i64.shr_u
                        i32.wrap_i64
                        i32.const 32768
                        i32.and
                        local.get 21
                        i32.const 15360
                        i32.add
                        i32.or
                        local.set 26
                        local.get 29
                        i64.const 11
                        i64.shl
                        i64.const -9223372036854775808
                        i64.or
                        local.set 29
                      end
                      local.get 22
                      i32.const 4
                      i32.shl
                      i32.const 152
                      i32.add
                      local.set 23
                      local.get 23
                      i64.load
                      local.set 28
                      local.get 23
                      i32.load16_u offset=8
                      local.set 21
                      local.get 28
                      i64.const 0
                      i64.ge_s
                      local.get 21
                      i32.const 32767
                      i32.and
                      i32.const 1
                      i32.sub
                      i32.const 32766
                      i32.ge_u
                      i32.or
                      if ;; label = @10
                        local.get 28
                        i64.const 0
                        i64.ne
                        local.get 21
                        i32.const 32767
                        i32.and
                        i32.or
                        br_if 1 (;@9;)
                      end
                      local.get 28
                      i64.eqz
                      local.get 29
                      i64.eqz
                      i32.or
                      if ;; label = @10
                        local.get 23
                        local.get 29
                        local.get 28
                        local.get 28
                        i64.eqz
                        select
                        i64.store
                        local.get 23
                        local.get 21
                        local.get 26
                        i32.and
                        i32.const 32768
                        i32.and
                        local.get 26
                        local.get 29
                        i64.eqz
                        select
                        local.get 21
                        local.get 28
                        i64.eqz
                        select
                        i64.extend_i32_u
                        i64.store offset=8
                        i32.const 0
                        local.get 24
                        i32.const -33409
                        i32.and
                        i32.store16 offset=282
                        br 2 (;@8;)
                      end
                      local.get 21
                      i32.const 32767
                      i32.and
                      local.get 26
                      i32.const 32767
                      i32.and
                      i32.lt_u
                      local.get 21
                      local.get 26
                      i32.xor
                      i32.const 32767
                      i32.and
                      i32.eqz
                      local.get 28
                      local.get 29
                      i64.lt_u
                      i32.and
                      i32.or
                      if ;; label = @10
                        local.get 28
                        local.get 29
                        local.set 28
                        local.set 29
                        local.get 21
                        local.get 26
                        local.set 21
                        local.set 26
                      end
                      local.get 28
                      local.get 29
                      local.get 21
                      i32.const 32767
                      i32.and
                      local.get 26
                      i32.const 32767
                      i32.and
                      i32.sub
                      local.get 21
                      local.get 26
                      i32.xor
                      i32.const 15
                      i32.shr_u
                      block (type 4) (param i64 i64 i32 i32) (result i64 i32 i32) ;; label = @10
                        local.set 37
                        local.set 36
                        local.set 33
                        local.set 32
                        i32.const 0
                        local.set 38
                        local.get 36
                        i32.const 63
                        i32.gt_u
                        if ;; label = @11
                          i64.const 0
                          i32.const 0
                          i32.const 8
                          br 1 (;@10;)
                        end
                        local.get 33
                        i64.const 64
                        local.get 36
                        i64.extend_i32_u
                        i64.sub
                        i64.shl
                        i64.const 0
                        local.get 36
                        select
                        local.set 35
                        local.get 33
                        local.get 36
                        i64.extend_i32_u
                        i64.shr_u
                        local.set 33
                        local.get 37
                        if ;; label = @11
                          local.get 32
                          local.get 33
                          i64.sub
                          local.get 35
                          i64.const 0
                          i64.ne
                          i64.extend_i32_u
                          i64.sub
                          local.set 34
                          i64.const 0
                          local.get 35
                          i64.sub
                          local.set 35
                          local.get 34
                          i64.eqz
                          if ;; label = @12
                            i64.const 0
                            i32.const 0
                            i32.const 8
                            br 2 (;@10;)
                          end
                          local.get 34
                          i64.clz
                          i32.wrap_i64
                          local.tee 39
                          if ;; label = @12
                            local.get 34
                            local.get 39
                            i64.extend_i32_u
                            i64.shl
                            local.get 35
                            i64.const 64
                            local.get 39
                            i64.extend_i32_u
                            i64.sub
                            i64.shr_u
                            i64.or
                            local.set 34
                            local.get 35
                            local.get 39
                            i64.extend_i32_u
                            i64.shl
                            local.set 35
                          end
                          i32.const 0
                          local.get 39
                          i32.sub
                          local.set 38
                        else
                          local.get 32
                          local.get 33
                          i64.add
                          local.tee 34
                          local.get 32
                          i64.lt_u
                          if ;; label = @12
                            local.get 35
                            i64.const 1
                            i64.shr_u
                            local.get 34
                            i64.const 63
                            i64.shl
                            i64.or
                            local.set 35
                            local.get 34
                            i64.const 1
                            i64.shr_u
                            i64.const -9223372036854775808
                            i64.or
                            local.set 34
                            i32.const 1
                            local.set 38
                          end
                        end
                        local.get 35
                        i64.const 63
                        i64.shr_u
                        i32.wrap_i64
                        local.get 35
                        i64.const 1
                        i64.shl
                        i64.const 0
                        i64.ne
                        local.get 34
                        i32.wrap_i64
                        i32.const 1
                        i32.and
                        i32.or
                        i32.and
                        local.set 39
                        local.get 34
                        local.get 39
                        i64.extend_i32_u
                        i64.add
                        local.set 34
                        i64.const -9223372036854775808
                        local.get 34
                        local.get 34
                        i64.eqz
                        select
                        local.get 38
                        local.get 35
                        i64.const 0
                        i64.ne
                        local.get 39
                        i32.const 1
                        i32.shl
                        i32.or
                        local.get 34
                        i64.eqz
                        i32.const 2
                        i32.shl
                        i32.or
                      end
                      local.set 20
                      local.set 26
                      local.set 28
                      local.get 20
                      i32.const 8
                      i32.and
                      br_if 0 (;@9;)
                      local.get 21
                      i32.const 32767
                      i32.and
                      local.get 26
                      i32.add
                      local.tee 26
                      i32.const 1
                      i32.sub
                      i32.const 32764
                      i32.gt_u
                      br_if 0 (;@9;)
                      local.get 26
                      local.get 20
                      i32.const 2
                      i32.shr_u
                      i32.const 1
                      i32.and
                      i32.add
                      local.set 26
                      local.get 23
                      local.get 28
                      i64.store
                      local.get 23
                      local.get 21
                      i32.const 32768
                      i32.and
                      local.get 26
                      i32.or
                      i64.extend_i32_u
                      i64.store offset=8
                      i32.const 0
                      local.get 24
                      i32.const -33409
                      i32.and
                      local.get 20
                      i32.const 1
                      i32.and
                      i32.const 32
                      i32.mul
                      i32.or
                      local.get 20
                      i32.const 1
                      i32.shr_u
                      i32.const 1
                      i32.and
                      i32.const 512
                      i32.mul
                      i32.or
                      i32.store16 offset=282
                      br 1 (;@8;)
                    end
                    i32.const 0
                    i32.const 134512646
                    i32.store offset=32
                    i32.const 4327
                    local.get 19
                    call 2
                    local.set 26
                    local.get 26
                    if ;; label = @9
                      local.get 27
                      i64.const 3
                      i64.add
                      local.set 27
                      i32.const 0
                      i32.load offset=32
                      local.set 10
                      local.get 26
                      local.set 12
                      br 7 (;@2;)
                    end
                  end
                  block ;; label = @8
                    block ;; label = @9
                      i32.const 0
                      i32.load16_u offset=282
                      local.set 24
                      i32.const 0
                      i32.load16_u offset=280
                      local.tee 26
                      i32.const 63
                      i32.xor
                      i32.const 63
                      i32.and
                      i32.const 128
                      i32.or
                      local.get 24
                      i32.and
                      br_if 0 (;@9;)
                      i32.const 0
                      i32.load16_u offset=286
                      local.set 22
                      i32.const 0
                      i32.load16_u offset=284
                      local.set 25
                      local.get 25
                      local.get 22
                      i32.const 1
                      i32.shl
                      i32.shr_u
                      i32.const 3
                      i32.and
                      i32.const 3
                      i32.eq
                      br_if 0 (;@9;)
                      local.get 25
                      local.get 22
                      i32.const 1
                      i32.add
                      i32.const 7
                      i32.and
                      i32.const 1
                      i32.shl
                      i32.shr_u
                      i32.const 3
                      i32.and
                      i32.const 3
                      i32.eq
                      br_if 0 (;@9;)
                      local.get 22
                      i32.const 1
                      i32.add
                      i32.const 7
                      i32.and
                      i32.const 4
                      i32.shl
                      i32.const 152
                      i32.add
                      local.set 20
                      local.get 20
                      i64.load
                      local.set 29
                      local.get 20
                      i32.load16_u offset=8
                      local.set 26
                      local.get 29
                      i64.const 0
                      i64.lt_s
                      local.get 26
                      i32.const 32767
                      i32.and
                      i32.const 1
                      i32.sub
                      i32.const 32766
                      i32.lt_u
                      i32.and
                      local.get 29
                      i64.eqz
                      local.get 26
                      i32.const 32767
                      i32.and
                      i32.eqz
                      i32.and
                      i32.or
                      i32.eqz
                      br_if 0 (;@9;)
                      local.get 22
                      i32.const 4
                      i32.shl
                      i32.const 152
                      i32.add
                      local.set 23
                      local.get 23
                      i64.load
                      local.set 28
                      local.get 23
                      i32.load16_u offset=8
                      local.set 21
                      local.get 28
                      i64.const 0
                      i64.lt_s
                      local.get 21
                      i32.const 32767
                      i32.and
                      i32.const 1
                      i32.sub
                      i32.const 32766
                      i32.lt_u
                      i32.and
                      local.get 28
                      i64.eqz
                      local.get 21
                      i32.const 32767
                      i32.and
                      i32.eqz
                      i32.and
                      i32.or
                      i32.eqz
                      br_if 0 (;@9;)
                      local.get 21
                      i32.const 32767
                      i32.and
                      local.get 26
                      i32.const 32767
                      i32.and
                      i32.gt_u
                      local.get 21
                      i32.const 32767
                      i32.and
                      local.get 26
                      i32.const 32767
                      i32.and
                      i32.eq
                      local.get 28
                      local.get 29
                      i64.gt_u
                      i32.and
                      i32.or
                      local.set 20
                      local.get 21
                      i32.const 32767
                      i32.and
                      local.get 26
                      i32.const 32767
                      i32.and
                      i32.lt_u
                      local.get 21
                      i32.const 32767
                      i32.and
                      local.get 26
                      i32.const 32767
                      i32.and
                      i32.eq
                      local.get 28
                      local.get 29
                      i64.lt_u
                      i32.and
                      i32.or
                      local.set 19
                      local.get 21
                      i32.const 15
                      i32.shr_u
                      local.set 23
                      local.get 19
                      local.get 20
                      local.get 23
                      select
                      local.get 20
                      local.get 19
                      local.get 23
                      select
                      local.set 19
                      local.set 20
                      local.get 21
                      local.get 26
                      i32.xor
                      i32.const 15
                      i32.shr_u
                      local.get 21
                      i32.const 32767
                      i32.and
                      local.get 26
                      i32.const 32767
                      i32.and
                      i32.or
                      i32.const 0
                      i32.ne
                      i32.and
                      local.set 26
                      local.get 23
                      i32.eqz
                      local.get 20
                      local.get 26
                      select
                      local.set 20
                      local.get 23
                      local.get 19
                      local.get 26
                      select
                      local.set 19
                      i32.const 0
                      local.get 24
                      i32.const -33409
                      i32.and
                      i32.store16 offset=282
                      local.get 19
                      i32.const 1
                      i32.mul
                      local.get 20
                      local.get 19
                      i32.or
                      i32.eqz
                      i32.const 64
                      i32.mul
                      i32.or
                      local.set 26
                      i32.const 0
                      i32.const 0
                      i32.load offset=36
                      i32.const -2262
                      i32.and
                      local.get 26
                      i32.or
                      i32.store offset=36
                      i32.const 0
                      i32.const 0
                      i32.store offset=40
                      i32.const 3
                      local.get 22
                      i32.const 1
                      i32.shl
                      i32.shl
                      local.get 25
                      i32.or
                      local.set 25
                      i32.const 0
                      local.get 25
                      i32.store16 offset=284
                      i32.const 0
                      local.get 22
                      i32.const 1
                      i32.add
                      i32.const 7
                      i32.and
                      i32.store16 offset=286
                      br 1 (;@8;)
                    end
                    i32.const 0
                    i32.const 134512648
                    i32.store offset=32
                    i32.const 4559
                    i32.const 0
                    call 2
                    local.set 26
                    local.get 26
                    if ;; label = @9
                      local.get 27
                      i64.const 2
                      i64.add
                      local.set 27
                      i32.const 0
                      i32.load offset=32
                      local.set 10
                      local.get 26
                      local.set 12
                      br 7 (;@2;)
                    end
                  end
                  i32.const 0
                  i32.load offset=36
                  local.set 26
                  local.get 26
                  i32.const 65
                  i32.and
                  i32.const 0
                  i32.ne
                  i32.eqz
                  if ;; label = @8
                    local.get 27
                    i64.const 1
                    i64.add
                    local.set 27
                    i32.const 1
                    local.set 11
                    br 3 (;@5;)
                  end
                  i32.const 0
                  local.get 9
                  i32.add
                  local.set 19
                  block ;; label = @8
                    block ;; label = @9
                      i32.const 0
                      i32.load16_u offset=282
                      local.set 24
                      i32.const 0
                      i32.load16_u offset=280
                      local.tee 26
                      i32.const 63
                      i32.xor
                      i32.const 63
                      i32.and
                      i32.const 128
                      i32.or
                      local.get 24
                      i32.and
                      br_if 0 (;@9;)
                      i32.const 0
                      i32.load16_u offset=286
                      local.set 22
                      i32.const 0
                      i32.load16_u offset=284
                      local.set 25
                      local.get 26
                      i32.const 3104
                      i32.and
                      i32.const 32
                      i32.ne
                      br_if 0 (;@9;)
                      local.get 19
                      local.get 13
                      call 9
                      local.tee 21
                      i32.eqz
                      local.get 19
                      i32.const 4095
                      i32.and
                      i32.const 4088
                      i32.gt_u
                      i32.or
                      br_if 0 (;@9;)
                      local.get 25
                      local.get 22
                      i32.const 1
                      i32.shl
                      i32.shr_u
                      i32.const 3
                      i32.and
                      i32.const 3
                      i32.eq
                      br_if 0 (;@9;)
                      local.get 22
                      i32.const 4
                      i32.shl
                      i32.const 152
                      i32.add
                      local.set 23
                      local.get 23
                      i64.load
                      local.set 28
                      local.get 28
                      i64.eqz
                      local.get 23
                      i32.load16_u offset=8
                      i32.const 32767
                      i32.and
                      i32.eqz
                      i32.and
                      if ;; label = @10
                        local.get 21
                        local.get 23
                        i64.load16_u offset=8
                        i64.const 32768
                        i64.and
                        i64.const 48
                        i64.shl
                        i64.store align=1
                        i32.const 0
                        local.get 24
                        i32.const -33409
                        i32.and
                        i32.store16 offset=282
                        i32.const 3
                        local.get 22
                        i32.const 1
                        i32.shl
                        i32.shl
                        local.get 25
                        i32.or
                        local.set 25
                        i32.const 0
                        local.get 25
                        i32.store16 offset=284
                        i32.const 0
                        local.get 22
                        i32.const 1
                        i32.add
                        i32.const 7
                        i32.and
                        i32.store16 offset=286
                        br 2 (;@8;)
                      end
                      local.get 28
                      i64.const 0
                      i64.ge_s
                      br_if 0 (;@9;)
                      local.get 23
                      i32.load16_u offset=8
                      i32.const 32767
                      i32.and
                      local.tee 20
                      i32.const 15361
                      i32.sub
                      i32.const 2044
                      i32.gt_u
                      br_if 0 (;@9;)
                      local.get 28
                      i64.const 11
                      i64.shr_u
                      local.set 29
                      local.get 28
                      i64.const 2047
                      i64.and
                      local.set 28
                      local.get 28
                      i64.const 0
                      i64.ne
                      local.set 26
                      local.get 28
                      i64.const 1024
                      i64.gt_u
                      local.get 28
                      i64.const 1024
                      i64.eq
                      local.get 29
                      i32.wrap_i64
                      i32.const 1
                      i32.and
                      i32.and
                      i32.or
                      local.set 19
                      local.get 21
                      local.get 23
                      i64.load16_u offset=8
                      i64.const 32768
                      i64.and
                      i64.const 48
                      i64.shl
                      local.get 20
                      i32.const 15361
                      i32.sub
                      i64.extend_i32_u
                      i64.const 52
                      i64.shl
                      i64.or
                      local.get 29
                      i64.add
                      local.get 19
                      i64.extend_i32_u
                      i64.add
                      i64.store align=1
                      i32.const 0
                      local.get 24
                      i32.const -33409
                      i32.and
                      local.get 26
                      i32.const 32
                      i32.mul
                      i32.or
                      local.get 19
                      i32.const 512
                      i32.mul
                      i32.or
                      i32.store16 offset=282
                      i32.const 3
                      local.get 22
                      i32.const 1
                      i32.shl
                      i32.shl
                      local.get 25
                      i32.or
                      local.set 25
                      i32.const 0
                      local.get 25
                      i32.store16 offset=284
                      i32.const 0
                      local.get 22
                      i32.const 1
                      i32.add
                      i32.const 7
                      i32.and
                      i32.store16 offset=286
                      br 1 (;@8;)
                    end
                    i32.const 0
                    i32.const 134512652
                    i32.store offset=32
                    i32.const 4402
                    local.get 19
                    call 2
                    local.set 26
                    local.get 26
                    if ;; label = @9
                      i32.const 0
                      i32.load offset=32
                      local.set 10
                      local.get 26
                      local.set 12
                      br 7 (;@2;)
                    end
                  end
                end
                local.get 27
                i64.const 2
                i64.lt_s
                if ;; label = @7
                  i32.const 1
                  local.set 11
                  br 4 (;@3;)
                end
                local.get 27
                i64.const 2
                i64.sub
                local.set 27
                block ;; label = @7
                  block ;; label = @8
                    i32.const 0
                    i32.load16_u offset=282
                    local.set 24
                    i32.const 0
                    i32.load16_u offset=280
                    local.tee 26
                    i32.const 63
                    i32.xor
                    i32.const 63
                    i32.and
                    i32.const 128
                    i32.or
                    local.get 24
                    i32.and
                    br_if 0 (;@8;)
                    i32.const 0
                    i32.load16_u offset=286
                    local.set 22
                    i32.const 0
                    i32.load16_u offset=284
                    local.set 25
                    local.get 2
                    i32.const -65536
                    i32.and
                    local.get 24
                    i32.const -14337
                    i32.and
                    local.get 22
                    i32.const 11
                    i32.shl
                    i32.or
                    i32.or
                    local.set 2
                    br 1 (;@7;)
                  end
                  i32.const 0
                  i32.const 134512654
                  i32.store offset=32
                  i32.const 0
                  local.get 2
                  i32.store
                  i32.const 4557
                  i32.const 0
                  call 2
                  local.set 26
                  i32.const 0
                  i32.load
                  local.set 2
                  local.get 26
                  if ;; label = @8
                    local.get 27
                    i64.const 1
                    i64.add
                    local.set 27
                    i32.const 0
                    i32.load offset=32
                    local.set 10
                    local.get 26
                    local.set 12
                    br 6 (;@2;)
                  end
                end
                local.get 6
                local.set 19
                local.get 19
                local.get 13
                call 6
                local.tee 21
                i32.eqz
                if ;; label = @7
                  i32.const 1
                  local.set 11
                  i32.const 134512656
                  local.set 10
                  br 3 (;@4;)
                end
                local.get 21
                i32.load
                local.set 24
                local.get 6
                i32.const 4
                i32.add
                local.set 6
                local.get 24
                local.set 10
                i32.const 0
                local.set 12
                br 4 (;@2;)
                unreachable
              end
              i32.const 0
              i32.load
              local.set 2
              i32.const 0
              i32.load offset=4
              local.set 3
              i32.const 0
              i32.load offset=8
              local.set 4
              i32.const 0
              i32.load offset=12
              local.set 5
              i32.const 0
              i32.load offset=16
              local.set 6
              i32.const 0
              i32.load offset=20
              local.set 7
              i32.const 0
              i32.load offset=24
              local.set 8
              i32.const 0
              i32.load offset=28
              local.set 9
              i32.const 0
              i32.load offset=32768
              local.set 13
              local.get 11
              i32.eqz
              br_if 0 (;@5;)
              i32.const 5
              local.set 12
              br 3 (;@2;)
            end
          end
          i32.const 6
          local.set 12
          br 1 (;@2;)
        end
        i32.const 1
        local.set 12
      end
      i32.const 0
      local.get 2
      i32.store
      i32.const 0
      local.get 6
      i32.store offset=16
      i32.const 0
      local.get 10
      i32.store offset=32
      i32.const 0
      local.get 27
      i64.store offset=32776
      local.get 12
      i32.eqz
      if ;; label = @2
        local.get 10
        i32.const -1640531535
        i32.mul
        i32.const 20
        i32.shr_u
        i32.const 4
        i32.shl
        i32.const 65536
        i32.add
        local.set 24
        local.get 24
        i32.load
        local.get 10
        i32.eq
        local.get 24
        i32.load offset=4
        i32.const 0
        i32.load offset=32804
        i32.eq
        i32.and
        if ;; label = @3
          i32.const 0
          i32.const 0
          i32.load offset=32812
          i32.const 1
          i32.add
          i32.store offset=32812
          local.get 24
          i32.load offset=8
          local.get 1
          i32.eq
          if ;; label = @4
            i32.const 0
            i32.const 0
            i32.load offset=32816
            i32.const 1
            i32.add
            i32.store offset=32816
            local.get 24
            i32.load offset=12
            local.set 11
            br 3 (;@1;)
          end
          local.get 24
          i32.load offset=12
          local.get 24
          i32.load offset=8
          local.get 24
          i32.load offset=8
          return_call_indirect (type 2)
        end
      end
    end
    i32.const 0
    local.get 11
    i32.store offset=32796
    i32.const 0
    local.get 12
    i32.store offset=32772
    i32.const 0
    local.get 1
    i32.store offset=32808
    local.get 12
  )
  (func (;4;) (type 2) (param i32 i32) (result i32)
    (local i32)
    local.get 0
    i32.const 12
    i32.shr_u
    i32.const 2
    i32.shl
    local.get 1
    i32.add
    i32.load
    local.tee 2
    i32.const 1
    i32.and
    i32.eqz
    if ;; label = @1
      i32.const 0
      return
    end
    local.get 2
    i32.const -4096
    i32.and
    local.get 0
    i32.const 4095
    i32.and
    i32.or
  )
  (func (;5;) (type 2) (param i32 i32) (result i32)
    (local i32)
    local.get 0
    i32.const 12
    i32.shr_u
    i32.const 2
    i32.shl
    local.get 1
    i32.add
    i32.load
    local.tee 2
    i32.const 1
    i32.and
    i32.eqz
    local.get 0
    i32.const 4095
    i32.and
    i32.const 4094
    i32.gt_u
    i32.or
    if ;; label = @1
      i32.const 0
      return
    end
    local.get 2
    i32.const -4096
    i32.and
    local.get 0
    i32.const 4095
    i32.and
    i32.or
  )
  (func (;6;) (type 2) (param i32 i32) (result i32)
    (local i32)
    local.get 0
    i32.const 12
    i32.shr_u
    i32.const 2
    i32.shl
    local.get 1
    i32.add
    i32.load
    local.tee 2
    i32.const 1
    i32.and
    i32.eqz
    local.get 0
    i32.const 4095
    i32.and
    i32.const 4092
    i32.gt_u
    i32.or
    if ;; label = @1
      i32.const 0
      return
    end
    local.get 2
    i32.const -4096
    i32.and
    local.get 0
    i32.const 4095
    i32.and
    i32.or
  )
  (func (;7;) (type 2) (param i32 i32) (result i32)
    (local i32)
    local.get 0
    i32.const 12
    i32.shr_u
    i32.const 2
    i32.shl
    local.get 1
    i32.add
    i32.load
    local.tee 2
    i32.const 10
    i32.and
    i32.const 2
    i32.ne
    if ;; label = @1
      i32.const 0
      return
    end
    local.get 2
    i32.const -4096
    i32.and
    local.get 0
    i32.const 4095
    i32.and
    i32.or
  )
  (func (;8;) (type 2) (param i32 i32) (result i32)
    (local i32)
    local.get 0
    i32.const 12
    i32.shr_u
    i32.const 2
    i32.shl
    local.get 1
    i32.add
    i32.load
    local.tee 2
    i32.const 10
    i32.and
    i32.const 2
    i32.ne
    local.get 0
    i32.const 4095
    i32.and
    i32.const 4094
    i32.gt_u
    i32.or
    if ;; label = @1
      i32.const 0
      return
    end
    local.get 2
    i32.const -4096
    i32.and
    local.get 0
    i32.const 4095
    i32.and
    i32.or
  )
  (func (;9;) (type 2) (param i32 i32) (result i32)
    (local i32)
    local.get 0
    i32.const 12
    i32.shr_u
    i32.const 2
    i32.shl
    local.get 1
    i32.add
    i32.load
    local.tee 2
    i32.const 10
    i32.and
    i32.const 2
    i32.ne
    local.get 0
    i32.const 4095
    i32.and
    i32.const 4092
    i32.gt_u
    i32.or
    if ;; label = @1
      i32.const 0
      return
    end
    local.get 2
    i32.const -4096
    i32.and
    local.get 0
    i32.const 4095
    i32.and
    i32.or
  )
)
